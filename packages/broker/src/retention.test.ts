import { describe, expect, it } from "vitest";
import { bytes, iterate, nextMillisecond, range, str, take } from "./conformance-helpers.js";
import type { SqliteBroker } from "./index.js";
import { useTempBrokers } from "./temp-brokers.test-util.js";

describe("SqliteBroker retention", () => {
  const brokers = useTempBrokers("retention");
  const startBroker = (): Promise<SqliteBroker> => brokers.start();

  it("deletes messages older than retentionMs and moves the start offset", async () => {
    const broker = await startBroker();
    await broker.createTopic("aging", { retentionMs: 60_000 });
    await broker.publishBatch(
      "aging",
      range(0, 5).map((i) => ({ payload: bytes(`old${i}`) })),
    );
    const oldTs = (await broker.read("aging", 0, 0, 1))[0]?.timestamp ?? 0;
    await nextMillisecond(oldTs);
    await broker.publishBatch(
      "aging",
      range(0, 3).map((i) => ({ payload: bytes(`new${i}`) })),
    );
    expect(await broker.enforceRetention(oldTs + 60_000)).toBe(0);
    expect(await broker.enforceRetention(oldTs + 60_001)).toBe(5);
    expect((await broker.endOffsets("aging"))[0]).toEqual({ partition: 0, start: 5, end: 8 });
    const rest = await broker.read("aging", 0, 0, 100);
    expect(rest.map((m) => str(m.payload))).toEqual(["new0", "new1", "new2"]);
    // A group that had read nothing lags by what is left, and resumes at the new start.
    expect((await broker.lag("aging", "g")).lag).toBe(3);
    const consumer = broker.consume("aging", "g");
    expect((await take(iterate(consumer), 3)).map((m) => m.offset)).toEqual([5, 6, 7]);
    await consumer.close();
    // Everything can age out; offsets keep counting from where they were, also after a restart.
    expect(await broker.enforceRetention(Date.now() + 120_000)).toBe(3);
    await broker.stop();
    const again = await startBroker();
    expect((await again.endOffsets("aging"))[0]).toEqual({ partition: 0, start: 8, end: 8 });
    expect((await again.publish("aging", { payload: bytes("next") })).offset).toBe(8);
  });

  it("keeps each partition within its share of retentionBytes, oldest first", async () => {
    const broker = await startBroker();
    await broker.createTopic("sized", { partitions: 2, retentionBytes: 2000 });
    const payload = new Uint8Array(100);
    for (const partition of [0, 1]) {
      await broker.publishBatch(
        "sized",
        range(0, 30).map(() => ({ payload, partition })),
      );
    }
    expect(await broker.enforceRetention()).toBe(40);
    const offsets = await broker.endOffsets("sized");
    expect(offsets).toEqual([
      { partition: 0, start: 20, end: 30 },
      { partition: 1, start: 20, end: 30 },
    ]);
    expect(await broker.enforceRetention()).toBe(0);
    await broker.publishBatch(
      "sized",
      range(0, 5).map(() => ({ payload, partition: 0 })),
    );
    expect(await broker.enforceRetention()).toBe(5);
    expect((await broker.endOffsets("sized"))[0]).toEqual({ partition: 0, start: 25, end: 35 });
  });

  it("counts sizes in bytes, so non-ASCII headers and keys do not make a sweep delete everything", async () => {
    const broker = await startBroker();
    await broker.createTopic("wide", { retentionBytes: 3000 });
    // 200 emoji: 400 UTF-16 units, 800 UTF-8 bytes; a key with a NUL, which SQLite's
    // length() of TEXT would stop at.
    const headers = { "x-face": ["\u{1F600}".repeat(200)] };
    await broker.publishBatch(
      "wide",
      range(0, 40).map((i) => ({ payload: bytes(`m${i}`), headers, key: `k\u0000${i}` })),
    );
    const deleted = await broker.enforceRetention();
    const left = 40 - deleted;
    expect(left).toBeGreaterThan(0);
    // What is left fits the limit, and the next sweep finds nothing more to delete.
    const one = (await broker.read("wide", 0, 39, 1))[0];
    expect(one?.headers["x-face"]).toEqual(headers["x-face"]);
    expect(left * 800).toBeLessThanOrEqual(3000);
    expect(await broker.enforceRetention()).toBe(0);
    await broker.publish("wide", { payload: bytes("later"), headers, key: "k" });
    expect(await broker.enforceRetention()).toBe(1);
    expect((await broker.endOffsets("wide"))[0]).toEqual({ partition: 0, start: 41 - left, end: 41 });
  });

  it("gives disk space back when retention deletes", async () => {
    const broker = await startBroker();
    await broker.createTopic("big", { retentionBytes: 64 * 1024 });
    const payload = new Uint8Array(64 * 1024);
    for (let i = 0; i < 64; i++) await broker.publish("big", { payload });
    await broker.stop();
    const reopened = await startBroker();
    const before = (await reopened.describeTopic("big")).sizeBytes;
    expect(before).toBeGreaterThan(4 * 1024 * 1024);
    await reopened.enforceRetention();
    await reopened.stop();
    const last = await startBroker();
    expect((await last.describeTopic("big")).sizeBytes).toBeLessThan(before / 4);
  });
});
