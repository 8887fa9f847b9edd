import { describe, expect, it } from "vitest";
import { expectCode } from "@riff/broker/conformance";
import { createNatsBroker, natsNames } from "./index.js";
import { parseDescription } from "./stream-config.js";
import { uniquePrefix, useTestServer } from "./test-support.test-util.js";

// Replicas on a lone server; the cluster side is in cluster.test.ts.
const env = useTestServer();


describe("replicas on a server outside a cluster", () => {
  it("defaults to 1, refuses 3 naming the field and the cluster size, and records settings on the streams", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    const broker = createNatsBroker({ servers: env.server.url, prefix });
    await broker.start();
    try {
      const info = await broker.createTopic("events", { partitions: 2, durability: "fsync", retentionMs: 30_000 });
      expect(info.replicas).toBe(1);
      const err = await expectCode(broker.createTopic("copied", { replicas: 3 }), "RIFF_INVALID_ARGUMENT");
      expect(err.message).toContain("topic 'copied': replicas 3");
      expect(err.message).toContain("not in a cluster (cluster size 1)");
      expect(err.hint).toContain("set replicas: 1");
      await expectCode(broker.configureTopic("events", { replicas: 3 }), "RIFF_INVALID_ARGUMENT");
      const odd = await expectCode(broker.createTopic("odd", { replicas: 2 }), "RIFF_INVALID_ARGUMENT");
      expect(odd.message).toContain("replicas must be 1 or 3, got 2; the NATS server at");
      expect(odd.hint).toContain("set replicas: 1");
      expect(await broker.getTopic("copied")).toBeUndefined();

      const jsm = await env.nc.jetstreamManager();
      for (const p of [0, 1]) {
        const si = await jsm.streams.info(names.stream("events", p));
        expect(si.config.num_replicas).toBe(1);
        // The deduplication window is 60 s, or the retention when that is shorter.
        expect(si.config.duplicate_window).toBe(30_000 * 1e6);
        expect(parseDescription(si.config.description)).toEqual({
          topic: "events",
          partition: p,
          durability: "fsync",
          replicas: 1,
          retentionBytes: info.retentionBytes,
        });
      }
      expect((await jsm.streams.info(`KV_${names.bucket}`)).config.num_replicas).toBe(1);
    } finally {
      await broker.stop();
    }
  });

  it("refuses to start with the option replicas: 3, naming the option", async () => {
    const prefix = uniquePrefix();
    const broker = createNatsBroker({ servers: env.server.url, prefix, replicas: 3 });
    const err = await expectCode(broker.start(), "RIFF_INVALID_ARGUMENT");
    expect(err.message).toContain("option replicas is 3");
    expect(err.message).toContain("not in a cluster");
    expect(broker.state).toBe("stopped");
    expect(() => createNatsBroker({ replicas: 2 })).toThrow(/replicas must be 1 or 3/);
  });
});
