import type { GroupConsumer, StoredMessage } from "@riff/broker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsBroker, type GroupTiming } from "./index.js";
import type { NatsBroker } from "./nats-broker.js";
import { startTestNatsServer, type TestNatsServer } from "./nats-server.test-util.js";
import { bytes, removePrefix, uniquePrefix, waitFor } from "./test-support.test-util.js";

// `riff nodes` and describe show what a node reads. Across instances a partition is dealt to
// the newcomer as soon as it joins, but it reads it only once the holder finished what it was
// given and gave the claim up: showing the deal would name a node that reads nothing there.

let server: TestNatsServer;
beforeAll(async () => {
  server = await startTestNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function started(prefix: string, instance: string, groupTiming: Partial<GroupTiming>): Promise<NatsBroker> {
  const broker = createNatsBroker({ servers: server.url, prefix, instance, groupTiming });
  await broker.start();
  return broker;
}

/**
 * Instance a reads both partitions of a topic and holds 4 messages, uncommitted; then b joins
 * the group and is dealt one of them (`moving`). Disposing stops both and removes their streams.
 */
async function dealtToNewcomer(groupTiming: Partial<GroupTiming> = {}) {
  const prefix = uniquePrefix();
  const a = await started(prefix, "na", groupTiming);
  const b = await started(prefix, "nb", groupTiming);
  const dispose = async () => {
    await a.stop();
    await b.stop();
    await removePrefix(prefix, server.url);
  };
  try {
    await a.createTopic("numbers", { partitions: 2 });
    const ca = a.consume("numbers", "g");
    for (const partition of [0, 1]) await a.publishBatch("numbers", [0, 1].map((i) => ({ payload: bytes(`p${partition}-${i}`), partition })));
    const held = await take(ca, 4);
    expect(ca.reading().sort()).toEqual([0, 1]);
    await b.ensureTopic("numbers", { partitions: 2 });
    const cb = b.consume("numbers", "g");
    await waitFor("b is dealt a partition", () => cb.assignment().length === 1);
    const [moving] = cb.assignment() as [number];
    return { a, ca, cb, held, moving, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function take(consumer: GroupConsumer, n: number): Promise<StoredMessage[]> {
  const it = consumer[Symbol.asyncIterator]();
  const out: StoredMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done === true) throw new Error(`the consumer ended after ${out.length} of ${n} messages`);
    out.push(...r.value);
  }
  return out;
}

describe("a group across two instances", () => {
  it("reads a partition dealt to a newcomer only once the holder committed it and gave it up", async () => {
    await using t = await dealtToNewcomer();
    const { ca, cb, moving } = t;
    // a holds both, uncommitted: the partition dealt to b is still a's to read.
    expect(cb.reading()).toEqual([]);
    expect(ca.reading().sort()).toEqual([0, 1]);

    await ca.commit(0, 1);
    await ca.commit(1, 1);
    await waitFor("b reads the partition it was dealt", () => cb.reading().length === 1);
    expect(cb.reading()).toEqual([moving]);
    expect(ca.reading()).toEqual([1 - moving]);
    await ca.close();
    await cb.close();
  });

  it("claims and hands over without waiting for a claim round: a new share and a released lease are acted on at once", async () => {
    // Claim rounds an hour apart: only the deal and the release notice can move anything here.
    await using t = await dealtToNewcomer({ claimMs: 3_600_000 });
    const { a, ca, cb, held, moving } = t;
    for (const m of held) await ca.commit(m.partition, m.offset);
    await waitFor("b reads the partition it was dealt", () => cb.reading().length === 1);
    expect(ca.reading()).toEqual([1 - moving]);
    // And b gets what is published to it from now on, from where a committed.
    await a.publish("numbers", { payload: bytes("after the move"), partition: moving });
    expect((await take(cb, 1)).map((m) => [m.partition, m.offset])).toEqual([[moving, 2]]);
    await ca.close();
    await cb.close();
  });

  it("starts a group at latest where it joined: another instance's earlier messages are skipped, its later ones read", async () => {
    const prefix = uniquePrefix();
    const a = await started(prefix, "na", {});
    const b = await started(prefix, "nb", {});
    try {
      await a.createTopic("numbers", { partitions: 2 });
      await a.publishBatch("numbers", [0, 1].map((partition) => ({ payload: bytes(`before-${partition}`), partition })));
      // b has published nothing: where it joined is found by the server's times of storage, not
      // by the ends the server reports when asked, which may already hold what comes next.
      await b.ensureTopic("numbers", { partitions: 2 });
      const cb = b.consume("numbers", "tail", { startAt: "latest" });
      await a.publishBatch("numbers", [0, 1].map((partition) => ({ payload: bytes(`after-${partition}`), partition })));
      const got = await take(cb, 2);
      expect(got.map((m) => [m.partition, m.offset, Buffer.from(m.payload).toString()]).sort()).toEqual([
        [0, 1, "after-0"],
        [1, 1, "after-1"],
      ]);
      await cb.close();
    } finally {
      await a.stop();
      await b.stop();
      await removePrefix(prefix, server.url);
    }
  });
});
