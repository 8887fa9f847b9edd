import { describe, expect, it } from "vitest";
import type { Broker, GroupConsumer } from "./broker.js";
import { byPartition, bytes, expectCode, iterate, range, str, take } from "./conformance-helpers.js";

/** Publishes `count` messages to `partition`, payloads `p<partition>-<i>`. */
async function fill(
  broker: Broker,
  topic: string,
  partition: number,
  from: number,
  count: number,
): Promise<void> {
  await broker.publishBatch(
    topic,
    range(from, from + count).map((i) => ({ payload: bytes(`p${partition}-${i}`), partition })),
  );
}

function expectDisjoint(...consumers: GroupConsumer[]): void {
  const all = consumers.flatMap((c) => c.assignment());
  expect(new Set(all).size).toBe(all.length);
}

/**
 * Member `a` of group `g` of a 2-partition topic "numbers" holds offsets 0..2 of both
 * partitions, uncommitted, when member `b` joins.
 */
async function bothPartitionsHeld(broker: Broker) {
  await broker.createTopic("numbers", { partitions: 2 });
  const a = broker.consume("numbers", "g");
  const itA = iterate(a);
  await fill(broker, "numbers", 0, 0, 3);
  await fill(broker, "numbers", 1, 0, 3);
  expect((await take(itA, 6)).length).toBe(6);
  return { a, itA, b: broker.consume("numbers", "g") };
}

/** Consumer-group behaviour; part of describeBrokerConformance. */
export function describeGroupConformance(get: () => Broker): void {
  describe("consumer groups", () => {
    it("moves a group with no members to given offsets, clamped to what each partition holds", async () => {
      const broker = get();
      await broker.createTopic("numbers", { partitions: 2 });
      await fill(broker, "numbers", 0, 0, 5);
      await fill(broker, "numbers", 1, 0, 3);
      await broker.seek("numbers", "mark", { offsets: [2, 99] });
      expect((await broker.lag("numbers", "mark")).partitions.map((p) => p.committed)).toEqual([2, 3]);
      await broker.seek("numbers", "mark", { offsets: [4] });
      expect((await broker.lag("numbers", "mark")).partitions.map((p) => p.committed)).toEqual([4, 0]);
    });

    it("delivers every message to each of two groups (fan-out)", async () => {
      const broker = get();
      await broker.createTopic("numbers", { partitions: 3 });
      const sent = range(0, 30).map((i) => `m${i}`);
      await broker.publishBatch(
        "numbers",
        sent.map((s) => ({ payload: bytes(s) })),
      );
      for (const group of ["first", "second"]) {
        const consumer = broker.consume("numbers", group);
        const got = await take(iterate(consumer), sent.length);
        expect(got.map((m) => str(m.payload)).sort()).toEqual([...sent].sort());
        for (const [partition, offsets] of byPartition(got)) {
          expect(offsets).toEqual(range(0, offsets.length));
          await consumer.commit(partition, offsets.at(-1) ?? 0);
        }
        expect((await broker.lag("numbers", group)).lag).toBe(0);
        await consumer.close();
      }
    });

    it("delivers messages published while a consumer waits, and startAt latest skips older ones", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      await fill(broker, "numbers", 0, 0, 3);
      const consumer = broker.consume("numbers", "late", { startAt: "latest" });
      const it = iterate(consumer);
      const pending = it.next();
      await fill(broker, "numbers", 0, 3, 2);
      const first = await pending;
      const got = first.done === true ? [] : [...first.value];
      if (got.length < 2) got.push(...(await take(it, 2 - got.length)));
      expect(got.map((m) => str(m.payload))).toEqual(["p0-3", "p0-4"]);
      await consumer.close();
    });

    it("splits partitions between members and hands over uncommitted messages when one closes", async () => {
      const broker = get();
      await broker.createTopic("numbers", { partitions: 2 });
      const a = broker.consume("numbers", "g");
      const b = broker.consume("numbers", "g");
      expect(a.assignment().length).toBe(1);
      expect(b.assignment().length).toBe(1);
      expectDisjoint(a, b);
      const pa = a.assignment()[0] as number;
      const pb = b.assignment()[0] as number;
      await fill(broker, "numbers", pa, 0, 4);
      await fill(broker, "numbers", pb, 0, 4);
      const gotA = await take(iterate(a), 4);
      const itB = iterate(b);
      const gotB = await take(itB, 4);
      expect(gotA.every((m) => m.partition === pa)).toBe(true);
      expect(gotB.every((m) => m.partition === pb)).toBe(true);
      // Delivering from a partition, a member reads it: what status shows is what was dealt.
      expect(a.reading()).toEqual([pa]);
      expect(b.reading()).toEqual([pb]);
      await a.commit(pa, 3);
      await b.commit(pb, 1);
      await b.close();
      expect((await itB.next()).done).toBe(true);
      expect(a.assignment().sort()).toEqual([0, 1]);
      const redelivered = await take(iterate(a), 2);
      expect(gotA.length + gotB.length).toBe(8);
      expect(redelivered.map((m) => [m.partition, m.offset])).toEqual([
        [pb, 2],
        [pb, 3],
      ]);
      await a.close();
    });

    it("moves a partition to a new member only once its owner committed what it was given", async () => {
      const broker = get();
      const { a, itA, b } = await bothPartitionsHeld(broker);
      // b should get one partition, but a holds both until it commits what it was given.
      expect(b.assignment()).toEqual([]);
      expect(a.assignment().sort()).toEqual([0, 1]);
      await a.commit(0, 2);
      await a.commit(1, 2);
      expectDisjoint(a, b);
      expect(a.assignment().length).toBe(1);
      expect(b.assignment().length).toBe(1);
      const pb = b.assignment()[0] as number;
      const pa = a.assignment()[0] as number;
      await fill(broker, "numbers", pb, 3, 2);
      await fill(broker, "numbers", pa, 3, 1);
      const gotB = await take(iterate(b), 2);
      expect(gotB.map((m) => [m.partition, m.offset])).toEqual([
        [pb, 3],
        [pb, 4],
      ]);
      const gotA = await take(itA, 1);
      expect(gotA.map((m) => [m.partition, m.offset])).toEqual([[pa, 3]]);
      await a.close();
      await b.close();
    });

    it("keeps a partition with its member across a seek until it commits what it holds", async () => {
      const broker = get();
      const { a, b } = await bothPartitionsHeld(broker);
      await broker.seek("numbers", "g", "earliest");
      // a still holds offsets 0..2 of both partitions: giving one to b now would put those
      // messages with two members at once.
      expect(b.assignment()).toEqual([]);
      await a.commit(0, 2);
      await a.commit(1, 2);
      expectDisjoint(a, b);
      expect(b.assignment().length).toBe(1);
      const pb = b.assignment()[0] as number;
      // Those commits were of messages from before the seek: the group stays at the start.
      expect((await broker.lag("numbers", "g")).lag).toBe(6);
      const got = await take(iterate(b), 3);
      expect(got.map((m) => [m.partition, m.offset])).toEqual([
        [pb, 0],
        [pb, 1],
        [pb, 2],
      ]);
      await a.close();
      await b.close();
    });

    it("does not let a commit of a message taken before a seek move the group past its replay", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      await fill(broker, "numbers", 0, 0, 10);
      const a = broker.consume("numbers", "g");
      const it = iterate(a);
      expect((await take(it, 10)).length).toBe(10);
      await broker.seek("numbers", "g", "earliest");
      // The replay is in hand when the old copy of offset 9 is committed: the group stays put.
      expect((await take(it, 10)).map((m) => m.offset)).toEqual(range(0, 10));
      await a.commit(0, 9);
      expect((await broker.lag("numbers", "g")).lag).toBe(10);
      // The replay's own commit moves it.
      await a.commit(0, 9);
      expect((await broker.lag("numbers", "g")).lag).toBe(0);
      await a.close();
    });

    it("deletes a group without members, so a group of that name starts afresh", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      await fill(broker, "numbers", 0, 0, 4);
      const a = broker.consume("numbers", "g");
      const got = await take(iterate(a), 4);
      await a.commit(0, got.at(-1)?.offset ?? 0);
      await expectCode(broker.deleteGroup("numbers", "g"), "RIFF_INVALID_ARGUMENT");
      await a.close();
      await broker.deleteGroup("numbers", "g");
      await broker.deleteGroup("numbers", "never-was");
      expect((await broker.describeTopic("numbers")).groups).toEqual([]);
      const again = broker.consume("numbers", "g");
      expect((await take(iterate(again), 4)).map((m) => m.offset)).toEqual([0, 1, 2, 3]);
      await again.close();
    });

    it("never redelivers what was committed, to a later member of the group", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      await fill(broker, "numbers", 0, 0, 10);
      const a = broker.consume("numbers", "g", { maxBatch: 4 });
      const batch = await take(iterate(a), 1);
      expect(batch.length).toBeLessThanOrEqual(4);
      await a.commit(0, batch.at(-1)?.offset ?? 0);
      await a.close();
      const b = broker.consume("numbers", "g");
      const rest = await take(iterate(b), 10 - batch.length);
      expect(rest.map((m) => m.offset)).toEqual(range(batch.length, 10));
      await b.close();
    });

    it("delivers a backlog in batches of up to maxBatch, not a message at a time", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      await fill(broker, "numbers", 0, 0, 1000);
      const a = broker.consume("numbers", "g", { maxBatch: 100 });
      const it = iterate(a);
      const sizes: number[] = [];
      const offsets: number[] = [];
      while (offsets.length < 1000) {
        const r = await it.next();
        if (r.done === true) throw new Error(`iteration ended after ${offsets.length} of 1000 messages`);
        sizes.push(r.value.length);
        offsets.push(...r.value.map((m) => m.offset));
      }
      expect(offsets).toEqual(range(0, 1000));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
      // Each batch costs the runner a wake-up and a turn: a broker that hands over what it
      // holds as it arrives, one message each, passes the rest of this suite but not this.
      expect(sizes.length).toBeLessThan(1000 / 4);
      await a.close();
    });

    it("gives the partitions added to a topic to the group's members", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      const consumer = broker.consume("numbers", "g");
      const it = iterate(consumer);
      await broker.setPartitions("numbers", 3);
      expect(consumer.assignment()).toEqual([0, 1, 2]);
      await fill(broker, "numbers", 2, 0, 2);
      const got = await take(it, 2);
      expect(got.map((m) => [m.partition, m.offset])).toEqual([
        [2, 0],
        [2, 1],
      ]);
      await consumer.close();
    });

    it("ends the iteration when the signal aborts or the consumer closes", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      const controller = new AbortController();
      const consumer = broker.consume("numbers", "g", { signal: controller.signal });
      const loop = (async () => {
        let batches = 0;
        for await (const batch of consumer) batches += batch.length > 0 ? 1 : 0;
        return batches;
      })();
      await fill(broker, "numbers", 0, 0, 1);
      controller.abort();
      expect(await loop).toBeLessThanOrEqual(1);
      expect(consumer.assignment()).toEqual([]);
      const other = broker.consume("numbers", "h", { startAt: "latest" });
      const pending = iterate(other).next();
      await other.close();
      expect((await pending).done).toBe(true);
    });

    it("gives a stopped broker's callers a clear error and ends its consumers", async () => {
      const broker = get();
      await broker.createTopic("numbers");
      const consumer = broker.consume("numbers", "g");
      const pending = iterate(consumer).next();
      const published = broker.publish("numbers", { payload: bytes("last") });
      await broker.stop();
      expect((await published).offset).toBe(0);
      expect((await pending).done).toBe(true);
      await expect(broker.publish("numbers", { payload: bytes("x") })).rejects.toMatchObject({
        name: "RiffError",
      });
      await expect(broker.listTopics()).rejects.toMatchObject({ name: "RiffError" });
    });
  });
}
