import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RiffError } from "@riff/core";
import { createSqliteBroker, type SqliteBroker } from "@riff/broker";
import { parseTailFrom, tailTopic, type TailFrom } from "./topic-tail.js";

// The real broker behind a real HTTP server, as the admin API uses tailTopic.
describe("tailTopic", () => {
  let dir = "";
  let broker: SqliteBroker;
  let server: Server | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "riff-tail-"));
    broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
    await broker.start();
  });
  afterEach(async () => {
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Serves tailTopic for `topic` from `from`, and reads it all. */
  async function tail(topic: string, from: TailFrom, count: number): Promise<{ status: number; lines: string[] }> {
    server = createServer((req, res) => {
      const closed = new AbortController();
      res.on("close", () => closed.abort());
      tailTopic(broker, topic, { from, count, follow: false }, res, closed.signal).catch((err: unknown) => {
        const e = err as RiffError;
        res.writeHead(e.status ?? 500).end(JSON.stringify({ error: { code: e.code, message: e.message } }));
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    const text = await res.text();
    return { status: res.status, lines: text.split("\n").filter(Boolean) };
  }

  it("streams a partition of 150,000 messages from the beginning, in order", async () => {
    await broker.createTopic("big", { partitions: 2 });
    const payload = new Uint8Array(16);
    for (let i = 0; i < 150_000; i += 5000) {
      await broker.publishBatch("big", Array.from({ length: 5000 }, () => ({ payload, partition: 0 })));
    }
    await broker.publish("big", { payload, partition: 1 });
    const { status, lines } = await tail("big", parseTailFrom("beginning"), 1e9);
    expect(status).toBe(200);
    expect(lines).toHaveLength(150_001);
    const offsets = lines.map((l) => JSON.parse(l) as { partition: number; offset: number; timestamp: number });
    const p0 = offsets.filter((m) => m.partition === 0).map((m) => m.offset);
    expect(p0.every((o, i) => o === i)).toBe(true);
    // Oldest first across partitions: partition 1's message was written last.
    expect(offsets.at(-1)).toMatchObject({ partition: 1, offset: 0 });
  });

  it("starts --since at the first message of that time, found without reading the rest", async () => {
    await broker.createTopic("timed");
    await broker.publishBatch("timed", ["a", "b"].map((s) => ({ payload: Buffer.from(s) })));
    const old = (await broker.read("timed", 0, 1, 1))[0]?.timestamp ?? 0;
    while (Date.now() <= old) await new Promise((resolve) => setImmediate(resolve));
    await broker.publish("timed", { payload: Buffer.from("c") });
    const { lines } = await tail("timed", { kind: "since", timestamp: old + 1 }, 1e9);
    expect(lines.map((l) => (JSON.parse(l) as { payload: string }).payload)).toEqual(["c"]);
  });

  it("refuses a starting offset in a partition the topic does not have", async () => {
    await broker.createTopic("small", { partitions: 2 });
    const { status, lines } = await tail("small", parseTailFrom("5:0"), 10);
    expect(status).toBe(400);
    expect(lines[0]).toContain("topic 'small' has no partition 5: it has 2");
  });
});
