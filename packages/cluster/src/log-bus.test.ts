import { connect, type NatsConnection } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { recordingLogger, uniquePrefix, useTestServer } from "../../broker-nats/src/test-support.test-util.js";
import { LogBus } from "./log-bus.js";
import { clusterNames } from "./names.js";

// `riff logs` on any node reads every node's lines. A node that is listed as live but does not
// answer (paused, cut off, too busy) must be named, not left out silently.
describe("LogBus", () => {
  const env = useTestServer();
  const opened: { bus: LogBus; nc: NatsConnection }[] = [];
  afterEach(async () => {
    for (const { bus, nc } of opened.splice(0)) {
      bus.stop();
      await nc.close();
    }
  });

  async function node(names: ReturnType<typeof clusterNames>, name: string, lines: string, live: () => string[]) {
    const nc = await connect({ servers: env.server.url });
    const bus = new LogBus(nc, names, { read: () => lines }, name, live, recordingLogger());
    bus.start();
    // The server has the subscription once it answers a ping sent after it.
    await nc.flush();
    opened.push({ bus, nc });
    return bus;
  }

  it("merges every node's lines by time and names the live nodes that did not answer", async () => {
    const names = clusterNames(uniquePrefix());
    const everyone = ["n1", "n2"];
    const n1 = await node(names, "n1", "2026-01-01T00:00:01.000Z n1/f-1-1 stdout: b\n", () => everyone);
    await node(names, "n2", "2026-01-01T00:00:00.000Z n2/f-1-1 stdout: a\n2026-01-01T00:00:02.000Z n2/f-1-1 stdout: c\n", () => everyone);
    const both = await n1.read("f", 10);
    expect(both).toEqual({ text: "2026-01-01T00:00:00.000Z n2/f-1-1 stdout: a\n2026-01-01T00:00:01.000Z n1/f-1-1 stdout: b\n2026-01-01T00:00:02.000Z n2/f-1-1 stdout: c\n" });
    expect((await n1.read("f", 1)).text).toBe("2026-01-01T00:00:02.000Z n2/f-1-1 stdout: c\n");
    // n3 is still listed as live (its heartbeats have not yet timed out) but does not answer.
    everyone.push("n3");
    const partial = await n1.read("f", 10);
    expect(partial.unanswered).toEqual(["n3"]);
    expect(partial.text).toBe(both.text);
  });

  it("keeps each node's order within a millisecond, and a multi-line entry whole", async () => {
    const names = clusterNames(uniquePrefix());
    const everyone = ["n1", "n2"];
    const t = "2026-01-01T00:00:01.000Z";
    // A stack written line by line in one millisecond, and a compile error told as one entry.
    const stack = [`${t} n1/f-1-1 stderr: Error: multi 1`, `${t} n1/f-1-1 stderr:     at invoke (shim)`, `${t} n1/f-1-1 stderr:     at module.exports (f.js:1)`];
    const failed = `2026-01-01T00:00:02.000Z n2/f-1-1 stderr: replica failed to start: f.js:2\n\n  ^\nSyntaxError: Unexpected end of input\n`;
    const n1 = await node(names, "n1", stack.map((l) => `${l}\n`).join(""), () => everyone);
    await node(names, "n2", `2026-01-01T00:00:00.500Z n2/f-1-1 stdout: before\n${failed}`, () => everyone);
    const all = await n1.read("f", 10);
    expect(all.text).toBe([`2026-01-01T00:00:00.500Z n2/f-1-1 stdout: before\n`, ...stack.map((l) => `${l}\n`), failed].join(""));
    // The tail counts entries: the last is the whole compile error.
    expect((await n1.read("f", 1)).text).toBe(failed);
  });

  it("shows this node's own lines when NATS is away, and names the others as missing", async () => {
    const names = clusterNames(uniquePrefix());
    const everyone = ["n1", "n2"];
    const own = "2026-01-01T00:00:01.000Z n1/f-1-1 stdout: mine\n";
    const n1 = await node(names, "n1", own, () => everyone);
    await node(names, "n2", "2026-01-01T00:00:00.000Z n2/f-1-1 stdout: theirs\n", () => everyone);
    // n1's connection is gone (closed: no request can be sent on it).
    await opened[0]?.nc.close();
    expect(await n1.read("f", 10)).toEqual({ text: own, unanswered: ["n2"] });
  });
});
