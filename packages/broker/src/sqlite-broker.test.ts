import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { describeBrokerConformance } from "./conformance.js";
import { bytes, iterate, str, take } from "./conformance-helpers.js";
import { type SqliteBroker, createSqliteBroker } from "./index.js";
import { useTempBrokers } from "./temp-brokers.test-util.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "riff-broker-"));
}

describeBrokerConformance("SqliteBroker", async () => {
  const dir = tempDir();
  const broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
  await broker.start();
  return {
    broker,
    async cleanup() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqliteBroker storage", () => {
  const brokers = useTempBrokers("storage");
  const startBroker = (): Promise<SqliteBroker> => brokers.start();

  it("keeps one copy: replicas 1 is reported, 3 refused with what it needs", async () => {
    const broker = await startBroker();
    expect((await broker.createTopic("single", { replicas: 1 })).replicas).toBe(1);
    for (const attempt of [
      () => broker.createTopic("copied", { replicas: 3 }),
      () => broker.ensureTopic("single", { replicas: 3 }),
      () => broker.configureTopic("single", { replicas: 3 }),
    ]) {
      const err = await attempt().then(() => undefined, (e: unknown) => e as { code: string; message: string });
      expect(err?.code).toBe("RIFF_INVALID_ARGUMENT");
      expect(err?.message).toContain("the embedded broker keeps one copy; replicas: 3 needs riff on a NATS cluster");
    }
    expect((await broker.getTopic("single"))?.replicas).toBe(1);
    expect(await broker.getTopic("copied")).toBeUndefined();
  });

  it("restores topics, messages and group offsets after a restart", async () => {
    const first = await startBroker();
    await first.createTopic("numbers", { partitions: 2, retentionMs: 60_000, durability: "fsync" });
    await first.createTopic("words");
    await first.publishBatch(
      "numbers",
      ["a", "b", "c", "d"].map((s) => ({
        payload: bytes(s),
        partition: 0,
        headers: { "x-n": [s, s] },
      })),
    );
    const consumer = first.consume("numbers", "g");
    const got = await take(iterate(consumer), 4);
    await consumer.commit(0, got[1]?.offset ?? 0);
    await first.stop();

    const second = await startBroker();
    expect((await second.listTopics()).map((t) => t.name)).toEqual(["numbers", "words"]);
    expect(await second.getTopic("numbers")).toMatchObject({
      partitions: 2,
      retentionMs: 60_000,
      durability: "fsync",
    });
    expect((await second.endOffsets("numbers"))[0]).toEqual({ partition: 0, start: 0, end: 4 });
    expect((await second.lag("numbers", "g")).partitions[0]).toEqual({
      partition: 0,
      committed: 2,
      end: 4,
      lag: 2,
    });
    const again = second.consume("numbers", "g");
    const rest = await take(iterate(again), 2);
    expect(rest.map((m) => [str(m.payload), m.headers])).toEqual([
      ["c", { "x-n": ["c", "c"] }],
      ["d", { "x-n": ["d", "d"] }],
    ]);
    const next = await second.publish("numbers", { payload: bytes("e"), partition: 0 });
    expect(next.offset).toBe(4);
  });

  it("deletes a topic's files", async () => {
    const broker = await startBroker();
    await broker.createTopic("numbers");
    await broker.createTopic("words");
    await broker.publish("numbers", { payload: new Uint8Array(10_000) });
    expect((await broker.describeTopic("numbers")).sizeBytes).toBeGreaterThan(10_000);
    await broker.deleteTopic("numbers");
    expect(readdirSync(brokers.dir()).filter((f) => f.startsWith("numbers"))).toEqual([]);
    await broker.createTopic("numbers");
    expect((await broker.endOffsets("numbers"))[0]?.end).toBe(0);
  });

  it("tells its write observer each transaction's message count, until removed", async () => {
    const broker = await startBroker();
    await broker.createTopic("observed");
    const writes: [number, number][] = [];
    const remove = broker.observeWrites((messages, seconds) => writes.push([messages, seconds]));
    // One turn of the event loop: one transaction.
    await Promise.all([broker.publish("observed", { payload: bytes("a") }), broker.publishBatch("observed", [{ payload: bytes("b") }, { payload: bytes("c") }])]);
    await broker.publish("observed", { payload: bytes("d") });
    expect(writes.map(([m]) => m)).toEqual([3, 1]);
    for (const [, seconds] of writes) expect(seconds).toBeGreaterThanOrEqual(0);
    remove();
    await broker.publish("observed", { payload: bytes("e") });
    expect(writes).toHaveLength(2);
  });

  it("keeps publishing when an onAppend listener throws", async () => {
    const broker = await startBroker();
    await broker.createTopic("numbers");
    const seen: number[] = [];
    broker.onAppend("numbers", () => {
      throw new Error("listener bug");
    });
    broker.onAppend("numbers", (positions) => seen.push(...positions.map((p) => p.offset)));
    expect((await broker.publish("numbers", { payload: bytes("a") })).offset).toBe(0);
    expect((await broker.publish("numbers", { payload: bytes("b") })).offset).toBe(1);
    expect(seen).toEqual([0, 1]);
  });

  it("refuses to open a folder that a broker in another process holds", async () => {
    // An empty folder is protected too: the lock is the folder's, not only each topic file's.
    const broker = await startBroker();
    const script = [
      `import { createSqliteBroker } from "@riff/broker";`,
      `const b = createSqliteBroker({ dir: ${JSON.stringify(brokers.dir())} });`,
      `await b.start().then(() => console.log("started"), (e) => console.log(e.code));`,
    ].join("\n");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
    });
    expect(out.toString().trim()).toBe("RIFF_DAEMON_ALREADY_RUNNING");
    await broker.createTopic("numbers");
    expect((await broker.publish("numbers", { payload: bytes("still mine") })).offset).toBe(0);
  });

  it("refuses calls before start with a clear error", async () => {
    const broker = createSqliteBroker({ dir: brokers.dir() });
    await expect(broker.listTopics()).rejects.toMatchObject({
      code: "RIFF_INTERNAL",
      message: "the broker is not started yet",
    });
    await broker.stop();
  });
});
