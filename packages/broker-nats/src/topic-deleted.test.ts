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

/** Two instances on one prefix, as two riff nodes of a cluster are; both stopped after `fn`. */
async function withTwo(fn: (a: NatsBroker, b: NatsBroker, prefix: string) => Promise<void>): Promise<void> {
  const prefix = uniquePrefix();
  const a = await started(prefix);
  const b = await started(prefix);
  try {
    await fn(a, b, prefix);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}

describe("a topic deleted through another instance", () => {
  it("is forgotten here: lookups, publishes and describes say RIFF_TOPIC_NOT_FOUND, not a 503 after retries", async () => {
    await withTwo(async (a, b) => {
      await a.createTopic("gone", { partitions: 2 });
      await b.publish("gone", { payload: bytes("x") });
      expect(await b.getTopic("gone")).toBeDefined();
      await a.deleteTopic("gone");
      // A fresh lookup looks at once; the plain one, the gateway's, follows the notice.
      expect(await b.getTopic("gone", { fresh: true })).toBeUndefined();
      await a.createTopic("gone", { partitions: 2 });
      await b.publish("gone", { payload: bytes("x") });
      await a.deleteTopic("gone");
      // The notice on core NATS (or the next sweep) closes b's open topic.
      await expect.poll(() => b.getTopic("gone"), { timeout: 10_000 }).toBeUndefined();
      await expectCode(b.publish("gone", { payload: bytes("y") }), "RIFF_TOPIC_NOT_FOUND");
      await expectCode(b.describeTopic("gone"), "RIFF_TOPIC_NOT_FOUND");
    });
  });

  it("is made again by a create or an ensure there at once, not called unchanged", async () => {
    await withTwo(async (a, b) => {
      await a.createTopic("again", { partitions: 3 });
      await b.publish("again", { payload: bytes("old"), partition: 0 });
      await a.deleteTopic("again");
      // No wait for the notice: the ensure itself looks.
      expect((await b.ensureTopic("again", { partitions: 1 })).partitions).toBe(1);
      expect((await a.publish("again", { payload: bytes("new") })).offset).toBe(0);
      expect((await b.read("again", 0, 0, 10)).map((m) => new TextDecoder().decode(m.payload))).toEqual(["new"]);
      await b.deleteTopic("again");
      expect((await a.createTopic("again")).name).toBe("again");
    });
  });

  it("is not forgotten when only its record is lost while its streams hold messages", async () => {
    await withTwo(async (a, b, prefix) => {
      await a.createTopic("kept");
      await a.publish("kept", { payload: bytes("m") });
      await b.publish("kept", { payload: bytes("n") });
      const jsm = await env.nc.jetstreamManager();
      await jsm.streams.delete(`KV_${natsNames(prefix).bucket}`);
      // The create looks (as the sweep does), and leaves the topic open: publishing goes on.
      await expectCode(b.createTopic("kept"), "RIFF_TOPIC_EXISTS");
      expect((await b.publish("kept", { payload: bytes("o") })).offset).toBe(2);
    });
  });
});
