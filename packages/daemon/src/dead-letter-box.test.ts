import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeadLetterHeaders as H } from "@riff/core";
import { createSqliteBroker, type SqliteBroker } from "@riff/broker";
import { DeadLetterBox } from "./dead-letter-box.js";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

// A dead-letter topic on the real embedded broker, shared by functions f and g.
describe("DeadLetterBox", () => {
  let dir = "";
  let broker: SqliteBroker;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "riff-dlq-"));
    broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
    await broker.start();
    await broker.createTopic("shared-dead-letters");
    await broker.createTopic("in");
  });
  afterEach(async () => {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const letter = (fn: string, payload: string) =>
    broker.publish("shared-dead-letters", {
      payload: text(payload),
      key: `k-${payload}`,
      headers: { "x-mine": ["kept"], "riff-correlation-id": ["gone"], [H.function]: [fn], [H.topic]: ["in"], [H.code]: ["RIFF_FUNCTION_ERROR"], [H.attempts]: ["3"], [H.source]: [`in/0@${payload}`] },
    });

  it("lists only its function's letters, and redrives them as they were, up to another function's letter", async () => {
    for (const [fn, p] of [["f", "1"], ["g", "2"], ["f", "3"]] as const) await letter(fn, p);
    const f = new DeadLetterBox(broker, "shared-dead-letters", "f");
    expect((await f.list()).map((r) => [r.offset, r.code, r.attempts, r.source, r.key])).toEqual([
      [0, "RIFF_FUNCTION_ERROR", 3, "in/0@1", "k-1"],
      [2, "RIFF_FUNCTION_ERROR", 3, "in/0@3", "k-3"],
    ]);
    await expect(f.get(0, 1)).rejects.toMatchObject({ code: "RIFF_NOT_FOUND" });
    expect(await f.redrive()).toEqual({ redriven: 1, to: { in: 1 }, left: 1 });
    const [sent] = await broker.read("in", 0, 0, 10);
    expect([str(sent?.payload ?? new Uint8Array()), sent?.key, sent?.headers]).toEqual(["1", "k-1", { "x-mine": ["kept"] }]);
    // g's letter holds the mark: f's second letter is still listed, and g's too.
    expect((await f.list()).map((r) => r.offset)).toEqual([2]);
    expect((await new DeadLetterBox(broker, "shared-dead-letters", "g").list()).map((r) => r.offset)).toEqual([1]);
    // A purge empties the topic for both.
    expect(await f.purge()).toBe(2);
    expect(await f.list()).toEqual([]);
    expect(await new DeadLetterBox(broker, "shared-dead-letters", "g").list()).toEqual([]);
  });

  it("redrives to another topic with `to`, and shows nothing of a topic that does not exist", async () => {
    await broker.createTopic("replay");
    await letter("f", "1");
    expect(await new DeadLetterBox(broker, "shared-dead-letters", "f").redrive("replay")).toEqual({ redriven: 1, to: { replay: 1 }, left: 0 });
    expect((await broker.read("replay", 0, 0, 10)).length).toBe(1);
    expect(await new DeadLetterBox(broker, "nope", "f").list()).toEqual([]);
    expect(await new DeadLetterBox(broker, "nope", "f").purge()).toBe(0);
  });
});
