import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { describeBrokerConformance } from "./conformance.js";
import { bytes, iterate, str, take } from "./conformance-helpers.js";
import { SqliteBroker, createSqliteBroker } from "./index.js";

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
  let dir: string;
  const open: SqliteBroker[] = [];
  async function startBroker(): Promise<SqliteBroker> {
    const broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
    open.push(broker);
    await broker.start();
    return broker;
  }
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("restores topics, messages and group offsets after a restart", async () => {
    const first = await startBroker();
    await first.createTopic("numbers", { partitions: 2, retentionMs: 60_000, durability: "fsync" });
    await first.createTopic("words");
    await first.publishBatch("numbers", ["a", "b", "c", "d"].map((s) => ({ payload: bytes(s), partition: 0, headers: { "x-n": [s, s] } })));
    const consumer = first.consume("numbers", "g");
    const got = await take(iterate(consumer), 4);
    await consumer.commit(0, (got[1]?.offset ?? 0));
    await first.stop();

    const second = await startBroker();
    expect((await second.listTopics()).map((t) => t.name)).toEqual(["numbers", "words"]);
    expect(await second.getTopic("numbers")).toMatchObject({ partitions: 2, retentionMs: 60_000, durability: "fsync" });
    expect((await second.endOffsets("numbers"))[0]).toEqual({ partition: 0, start: 0, end: 4 });
    expect((await second.lag("numbers", "g")).partitions[0]).toEqual({ partition: 0, committed: 2, end: 4, lag: 2 });
    const again = second.consume("numbers", "g");
    const rest = await take(iterate(again), 2);
    expect(rest.map((m) => [str(m.payload), m.headers])).toEqual([["c", { "x-n": ["c", "c"] }], ["d", { "x-n": ["d", "d"] }]]);
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
    expect(readdirSync(dir).filter((f) => f.startsWith("numbers"))).toEqual([]);
    await broker.createTopic("numbers");
    expect((await broker.endOffsets("numbers"))[0]?.end).toBe(0);
  });
});
