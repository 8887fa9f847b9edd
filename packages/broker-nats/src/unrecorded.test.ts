import type { TopicInfo } from "@riff/broker";
import type { StreamInfo } from "nats";
import { describe, expect, it } from "vitest";
import { expectCode } from "@riff/broker/conformance";
import { createNatsBroker, natsNames } from "./index.js";
import type { NatsBroker } from "./nats-broker.js";
import { bytes, uniquePrefix, useTestServer } from "./test-support.test-util.js";

const env = useTestServer();

async function started(prefix: string): Promise<NatsBroker> {
  const broker = createNatsBroker({ servers: env.server.url, prefix });
  await broker.start();
  return broker;
}


/** What shows a stream was never dropped and made again: its creation time and sequences. */
async function identity(stream: string): Promise<Pick<StreamInfo, "created"> & { first: number; last: number }> {
  const si = await (await env.nc.jetstreamManager()).streams.info(stream);
  return { created: si.created, first: si.state.first_seq, last: si.state.last_seq };
}

describe("a topic whose record is lost", () => {
  it("keeps its streams: publishing goes on, a create is refused, recover brings it back whole", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    const settings = { partitions: 2, retentionMs: 3_600_000, retentionBytes: 1_000_000, durability: "fsync" as const };
    const a = await started(prefix);
    let original: TopicInfo;
    try {
      original = await a.createTopic("orders", settings);
      await a.publishBatch("orders", Array.from({ length: 10 }, (_, i) => ({ payload: bytes(`m${i}`), partition: i % 2 })));
      const jsm = await env.nc.jetstreamManager();
      await jsm.streams.delete(`KV_${names.bucket}`);
      // The open topic keeps publishing; KV calls find the bucket gone and make it again.
      await a.publishBatch("orders", [0, 1].map((partition) => ({ payload: bytes("after"), partition })));
      expect(await a.getTopic("unknown")).toBeUndefined();
      expect(await a.listTopics()).toEqual([]);
    } finally {
      await a.stop();
    }
    const before = await Promise.all([0, 1].map((p) => identity(names.stream("orders", p))));
    expect(before.map((s) => s.last)).toEqual([6, 6]);

    const b = await started(prefix);
    try {
      const err = await expectCode(b.createTopic("orders"), "RIFF_TOPIC_UNRECORDED");
      expect(err.status).toBe(409);
      expect(err.message).toContain("topic 'orders'");
      expect(err.message).toContain("12 messages");
      expect(err.message).toContain(`${names.stream("orders", 0)}: 6`);
      expect(err.hint).toContain("riff topics recover orders");
      expect(err.hint).toContain("riff topics delete orders");
      await expectCode(b.ensureTopic("orders"), "RIFF_TOPIC_UNRECORDED");
      await expectCode(b.publish("orders", { payload: bytes("x") }), "RIFF_TOPIC_UNRECORDED");
      expect(await b.getTopic("orders")).toBeUndefined();
      // Found and named, with what each stream holds; a recorded topic is not among them.
      await b.createTopic("kept");
      await b.publish("kept", { payload: bytes("k") });
      expect(await b.unrecordedTopics()).toEqual([
        { name: "orders", messages: 12, streams: [{ name: names.stream("orders", 0), messages: 6 }, { name: names.stream("orders", 1), messages: 6 }] },
      ]);

      expect(await b.recoverTopic("orders")).toEqual(original);
      expect(await b.getTopic("orders")).toEqual(original);
      expect(await b.recoverTopic("orders")).toEqual(original);
      expect(await b.unrecordedTopics()).toEqual([]);
      const read = await Promise.all([0, 1].map((p) => b.read("orders", p, 0, 100)));
      expect(read.map((msgs) => msgs.map((m) => new TextDecoder().decode(m.payload)))).toEqual([
        ["m0", "m2", "m4", "m6", "m8", "after"],
        ["m1", "m3", "m5", "m7", "m9", "after"],
      ]);
      expect(await Promise.all([0, 1].map((p) => identity(names.stream("orders", p))))).toEqual(before);
      expect((await b.publish("orders", { payload: bytes("new"), partition: 1 })).offset).toBe(6);
      await expectCode(b.recoverTopic("nothing-here"), "RIFF_TOPIC_NOT_FOUND");
    } finally {
      await b.stop();
    }
  });

  it("takes over an empty leftover stream, and deletes an unrecorded topic's streams when told", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    const jsm = await env.nc.jetstreamManager();
    await jsm.streams.add({ name: names.stream("empty", 0), subjects: [names.subject("empty", 0)] });
    const created = (await identity(names.stream("empty", 0))).created;
    const broker = await started(prefix);
    try {
      expect((await broker.createTopic("empty")).partitions).toBe(1);
      const si = await jsm.streams.info(names.stream("empty", 0));
      expect(si.created).toBe(created);
      expect(si.config.description).toMatch(/^riff topic \{.*"durability":"process".*\}$/);
      expect(si.config.duplicate_window).toBe(60e9);

      // Streams left with messages and no record: an explicit delete removes them.
      await jsm.streams.add({ name: names.stream("orphan", 0), subjects: [names.subject("orphan", 0)] });
      await env.nc.jetstream().publish(names.subject("orphan", 0), bytes("old"));
      await expectCode(broker.createTopic("orphan"), "RIFF_TOPIC_UNRECORDED");
      await broker.deleteTopic("orphan");
      await expect(jsm.streams.info(names.stream("orphan", 0))).rejects.toThrow("stream not found");
      expect((await broker.createTopic("orphan")).partitions).toBe(1);
      expect((await broker.endOffsets("orphan"))[0]?.end).toBe(0);
      await expectCode(broker.deleteTopic("never"), "RIFF_TOPIC_NOT_FOUND");
    } finally {
      await broker.stop();
    }
  });
});
