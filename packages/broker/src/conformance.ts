/**
 * The behaviour every {@link Broker} must have, as a vitest suite. Run it against an
 * implementation with `describeBrokerConformance("sqlite", factory)`; `factory` must return a
 * started broker on empty storage, and `cleanup` must stop it and remove what it made.
 * Exposed as `@riff/broker/conformance` only, so that production code never loads vitest.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Broker, Position } from "./broker.js";
import {
  type BrokerFactory,
  type BrokerFixture,
  bytes,
  expectCode,
  expectCodeSync,
  iterate,
  nextMillisecond,
  range,
  str,
  take,
} from "./conformance-helpers.js";
import { describeGroupConformance } from "./conformance-groups.js";

export type { BrokerFactory, BrokerFixture } from "./conformance-helpers.js";
export { expectCode } from "./conformance-helpers.js";

/** Defines the conformance suite for the broker that `factory` makes. */
export function describeBrokerConformance(label: string, factory: BrokerFactory): void {
  describe(`Broker conformance: ${label}`, () => {
    let fixture: BrokerFixture;
    let broker: Broker;
    beforeEach(async () => {
      fixture = await factory();
      broker = fixture.broker;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });
    const get = (): Broker => broker;

    describe("topics", () => {
      it("creates, lists, describes and deletes a topic", async () => {
        const info = await broker.createTopic("numbers", { partitions: 3 });
        expect(info).toMatchObject({ name: "numbers", partitions: 3, durability: "process" });
        expect(info.retentionMs).toBeGreaterThan(0);
        expect((await broker.listTopics()).map((t) => t.name)).toEqual(["numbers"]);
        expect(await broker.getTopic("numbers")).toEqual(info);
        expect(await broker.getTopic("numbers", { fresh: true })).toEqual(info);
        const d = await broker.describeTopic("numbers");
        expect(d.offsets).toEqual([0, 1, 2].map((partition) => ({ partition, start: 0, end: 0 })));
        expect(d.groups).toEqual([]);
        await broker.deleteTopic("numbers");
        expect(await broker.getTopic("numbers")).toBeUndefined();
        expect(await broker.getTopic("numbers", { fresh: true })).toBeUndefined();
        expect(await broker.listTopics()).toEqual([]);
      });

      it("refuses to create a topic twice, and ensureTopic keeps the existing one", async () => {
        await broker.createTopic("words", { partitions: 2 });
        await expectCode(broker.createTopic("words"), "RIFF_TOPIC_EXISTS");
        expect((await broker.ensureTopic("words", { partitions: 1 })).partitions).toBe(2);
        expect((await broker.ensureTopic("words", { partitions: 4 })).partitions).toBe(4);
        expect((await broker.ensureTopic("fresh")).partitions).toBe(1);
      });

      it("raises partitions and refuses to lower them", async () => {
        await broker.createTopic("numbers", { partitions: 2 });
        expect((await broker.setPartitions("numbers", 5)).partitions).toBe(5);
        expect((await broker.endOffsets("numbers")).length).toBe(5);
        await expectCode(broker.setPartitions("numbers", 3), "RIFF_PARTITIONS_DECREASE");
        expect((await broker.getTopic("numbers"))?.partitions).toBe(5);
      });

      it("names the unknown topic in errors and says how to create it", async () => {
        const err = await expectCode(
          broker.publish("nope", { payload: bytes("x") }),
          "RIFF_TOPIC_NOT_FOUND",
        );
        expect(err.message).toContain("'nope'");
        expect(err.hint).toContain("riff topics create nope");
        await expectCode(
          broker.publishBatch("nope", [{ payload: bytes("x") }]),
          "RIFF_TOPIC_NOT_FOUND",
        );
        await expectCode(broker.describeTopic("nope"), "RIFF_TOPIC_NOT_FOUND");
        await expectCode(broker.deleteTopic("nope"), "RIFF_TOPIC_NOT_FOUND");
        await expectCode(broker.read("nope", 0, 0, 10), "RIFF_TOPIC_NOT_FOUND");
        await expectCode(broker.lag("nope", "g"), "RIFF_TOPIC_NOT_FOUND");
        await expectCode(broker.seek("nope", "g", "earliest"), "RIFF_TOPIC_NOT_FOUND");
        await expectCodeSync(
          () => iterate(broker.consume("nope", "g")).next(),
          "RIFF_TOPIC_NOT_FOUND",
        );
      });

      it("refuses invalid topic names", async () => {
        await expectCode(broker.createTopic("Not Valid"), "RIFF_INVALID_NAME");
      });

      it("gives a topic the broker's default replicas, and refuses a count other than 1 or 3", async () => {
        const info = await broker.createTopic("copies");
        expect(info.replicas).toBe(fixture.defaultReplicas ?? 1);
        expect((await broker.getTopic("copies"))?.replicas).toBe(info.replicas);
        for (const replicas of [0, 2, 1.5]) {
          const err = await expectCode(broker.createTopic("odd", { replicas }), "RIFF_INVALID_ARGUMENT");
          expect(err.message).toContain("replicas");
        }
        await expectCode(broker.configureTopic("copies", { replicas: 2 }), "RIFF_INVALID_ARGUMENT");
        expect(await broker.getTopic("odd")).toBeUndefined();
      });
    });

    describe("publishing", () => {
      beforeEach(async () => {
        await broker.createTopic("numbers", { partitions: 4 });
      });

      it("returns the position of single and batched publishes", async () => {
        const first = await broker.publish("numbers", { payload: bytes("a"), partition: 2 });
        expect(first).toEqual({ topic: "numbers", partition: 2, offset: 0 });
        const batch = await broker.publishBatch(
          "numbers",
          ["b", "c", "d"].map((s) => ({ payload: bytes(s), partition: 2 })),
        );
        expect(batch.map((p) => p.offset)).toEqual([1, 2, 3]);
        expect(await broker.publishBatch("numbers", [])).toEqual([]);
        const read = await broker.read("numbers", 2, 0, 10);
        expect(read.map((m) => str(m.payload))).toEqual(["a", "b", "c", "d"]);
      });

      it("sends one key to one partition, and spreads messages without a key", async () => {
        const keyed = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            broker.publish("numbers", { payload: bytes(`${i}`), key: "user-42" }),
          ),
        );
        expect(new Set(keyed.map((p) => p.partition)).size).toBe(1);
        const loose = await broker.publishBatch(
          "numbers",
          Array.from({ length: 8 }, (_, i) => ({ payload: bytes(`${i}`) })),
        );
        expect(new Set(loose.map((p) => p.partition))).toEqual(new Set([0, 1, 2, 3]));
      });

      it("keeps the order of publishes within a partition", async () => {
        const sent = Array.from({ length: 100 }, (_, i) => `m${i}`);
        const positions = await Promise.all(
          sent.map((s) => broker.publish("numbers", { payload: bytes(s), key: "k" })),
        );
        const offsets = positions.map((p) => p.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        const partition = (positions[0] as Position).partition;
        const read = await broker.read("numbers", partition, 0, 1000);
        expect(read.map((m) => str(m.payload))).toEqual(sent);
        expect(read.map((m) => m.offset)).toEqual(offsets);
      });

      it("round-trips multi-valued headers with case-insensitive names, keys and timestamps", async () => {
        const before = Date.now();
        await broker.publish("numbers", {
          payload: bytes("h"),
          partition: 1,
          key: "k1",
          headers: { "Content-Type": ["text/plain"], "x-multi": ["1", "2", "3"] },
        });
        await broker.publish("numbers", { payload: bytes("none"), partition: 1 });
        const after = Date.now();
        const [withHeaders, without] = await broker.read("numbers", 1, 0, 10);
        expect(withHeaders?.headers).toEqual({
          "content-type": ["text/plain"],
          "x-multi": ["1", "2", "3"],
        });
        expect(withHeaders?.key).toBe("k1");
        expect(without?.headers).toEqual({});
        expect(without?.key).toBeUndefined();
        for (const m of [withHeaders, without]) {
          expect(m?.timestamp).toBeGreaterThanOrEqual(before);
          expect(m?.timestamp).toBeLessThanOrEqual(after);
          expect(m?.topic).toBe("numbers");
        }
      });

      it("keeps headers named like an object's own properties, merging names that differ in case", async () => {
        await broker.publish("numbers", {
          payload: bytes("odd"),
          partition: 0,
          headers: { Constructor: ["c"], __PROTO__: ["p"], toString: ["t"], "X-A": ["1"], "x-a": ["2"] },
        });
        const [m] = await broker.read("numbers", 0, 0, 1);
        expect(Object.entries(m?.headers ?? {}).sort()).toEqual([
          ["__proto__", ["p"]],
          ["constructor", ["c"]],
          ["tostring", ["t"]],
          ["x-a", ["1", "2"]],
        ]);
      });

      it("accepts a 1 MiB payload and refuses a much larger one", async () => {
        const big = new Uint8Array(1024 * 1024).fill(7);
        const pos = await broker.publish("numbers", {
          payload: big,
          partition: 0,
          headers: { "content-type": ["application/octet-stream"] },
        });
        expect((await broker.read("numbers", 0, pos.offset, 1))[0]?.payload.byteLength).toBe(
          big.byteLength,
        );
        await expectCode(
          broker.publish("numbers", { payload: new Uint8Array(2 * 1024 * 1024) }),
          "RIFF_MESSAGE_TOO_LARGE",
        );
        await expectCode(
          broker.publish("numbers", { payload: bytes("x"), partition: 9 }),
          "RIFF_INVALID_ARGUMENT",
        );
      });

      it("rejects malformed calls without harm", async () => {
        const bad = { payload: "not bytes" } as unknown as { payload: Uint8Array };
        await expectCode(broker.publish("numbers", bad), "RIFF_INVALID_ARGUMENT");
        await expectCode(
          broker.publishBatch("numbers", [{ payload: bytes("ok") }, bad]),
          "RIFF_INVALID_ARGUMENT",
        );
        await expectCode(broker.read("numbers", 0, -1, 10), "RIFF_INVALID_ARGUMENT");
        await expectCode(broker.read("numbers", 7, 0, 10), "RIFF_INVALID_ARGUMENT");
        // A rejected batch wrote nothing.
        expect((await broker.endOffsets("numbers")).every((o) => o.end === 0)).toBe(true);
      });

      it("reports end offsets, and calls onAppend listeners with new positions", async () => {
        const seen: Position[] = [];
        const got = new Promise<void>((resolve) => {
          const off = broker.onAppend("numbers", (positions) => {
            seen.push(...positions);
            if (seen.length >= 3) {
              off();
              resolve();
            }
          });
        });
        const positions = await broker.publishBatch(
          "numbers",
          [0, 0, 3].map((partition) => ({ payload: bytes("x"), partition })),
        );
        await got;
        expect(seen).toEqual(positions);
        const ends = await broker.endOffsets("numbers");
        expect(ends.map((o) => o.end)).toEqual([2, 0, 0, 1]);
        expect(ends.every((o) => o.start === 0)).toBe(true);
      });
    });

    describe("lag and seek", () => {
      it("reports lag per group and moves a group to earliest, latest or a timestamp", async () => {
        await broker.createTopic("numbers");
        const early = await broker.publishBatch(
          "numbers",
          ["a", "b", "c"].map((s) => ({ payload: bytes(s) })),
        );
        const lastEarly = (await broker.read("numbers", 0, 0, 10)).at(-1);
        await nextMillisecond(lastEarly?.timestamp ?? Date.now());
        await broker.publishBatch(
          "numbers",
          ["d", "e"].map((s) => ({ payload: bytes(s) })),
        );
        const consumer = broker.consume("numbers", "g");
        const got = await take(iterate(consumer), 2);
        await consumer.commit(0, (got[1] as Position).offset);
        expect(await broker.lag("numbers", "g")).toEqual({
          group: "g",
          lag: 3,
          partitions: [{ partition: 0, committed: 2, end: 5, lag: 3 }],
        });
        await consumer.close();
        await broker.seek("numbers", "g", "latest");
        expect((await broker.lag("numbers", "g")).lag).toBe(0);
        await broker.seek("numbers", "g", "earliest");
        expect((await broker.lag("numbers", "g")).lag).toBe(5);
        await broker.seek("numbers", "g", { timestamp: (lastEarly?.timestamp ?? 0) + 1 });
        expect((await broker.lag("numbers", "g")).partitions[0]?.committed).toBe(early.length);
        const d = await broker.describeTopic("numbers");
        expect(d.groups).toEqual([
          { group: "g", lag: 2, partitions: [{ partition: 0, committed: 3, end: 5, lag: 2 }] },
        ]);
        const again = broker.consume("numbers", "g");
        expect((await take(iterate(again), 2)).map((m) => str(m.payload))).toEqual(["d", "e"]);
        await again.close();
      });

      it("finds each partition's first offset at or after a time", async () => {
        await broker.createTopic("timed", { partitions: 2 });
        await broker.publishBatch("timed", range(0, 4).map((i) => ({ payload: bytes(`a${i}`), partition: 0 })));
        const last = (await broker.read("timed", 0, 0, 10)).at(-1)?.timestamp ?? Date.now();
        await nextMillisecond(last);
        await broker.publishBatch("timed", range(0, 3).map((i) => ({ payload: bytes(`b${i}`), partition: 0 })));
        expect(await broker.offsetsForTimestamp("timed", 0)).toEqual([0, 0]);
        // Partition 1 is empty: its end. Partition 0: the first of the later batch.
        expect(await broker.offsetsForTimestamp("timed", last + 1)).toEqual([4, 0]);
        expect(await broker.offsetsForTimestamp("timed", Date.now() + 60_000)).toEqual([7, 0]);
        await expectCode(broker.offsetsForTimestamp("timed", Number.NaN), "RIFF_INVALID_ARGUMENT");
      });
    });

    describe("topic settings", () => {
      it("changes an existing topic's retention and durability, and keeps its partitions", async () => {
        await broker.createTopic("tuned", { partitions: 3 });
        const info = await broker.configureTopic("tuned", { retentionMs: 60_000, durability: "fsync" });
        expect(info).toMatchObject({ name: "tuned", partitions: 3, retentionMs: 60_000, durability: "fsync" });
        expect(await broker.getTopic("tuned")).toEqual(info);
        expect((await broker.configureTopic("tuned", { retentionBytes: 4096 })).retentionMs).toBe(60_000);
        await expectCode(broker.configureTopic("tuned", { retentionMs: -1 }), "RIFF_INVALID_ARGUMENT");
        await expectCode(broker.configureTopic("nope", { retentionMs: 1 }), "RIFF_TOPIC_NOT_FOUND");
      });
    });

    describeGroupConformance(get);
  });
}
