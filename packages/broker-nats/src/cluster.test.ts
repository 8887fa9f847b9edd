import { RiffError } from "@riff/core";
import { type NatsConnection, connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsBroker, natsNames } from "./index.js";
import type { NatsBroker } from "./nats-broker.js";
import { startTestNatsCluster, type TestNatsCluster, type TestNatsNode } from "./nats-cluster.test-util.js";
import { bytes, type LogLine, recordingLogger, uniquePrefix } from "./test-support.test-util.js";

// riff on a 3-node JetStream cluster (nats-server 2.9, all on this machine).
let cluster: TestNatsCluster;
let nc: NatsConnection;
beforeAll(async () => {
  cluster = await startTestNatsCluster();
  nc = await connect({ servers: cluster.urls });
});
afterAll(async () => {
  await nc?.close();
  await cluster?.stop();
});

async function started(servers: string | string[], prefix: string): Promise<NatsBroker> {
  const broker = createNatsBroker({ servers, prefix });
  await broker.start();
  return broker;
}

describe("NatsBroker on a 3-node cluster", () => {
  it("finds the cluster's size from one server's URL: topics and the KV bucket get 3 copies", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    const broker = await started(cluster.urls[0] ?? "", prefix);
    try {
      const info = await broker.createTopic("orders", { partitions: 2 });
      expect(info.replicas).toBe(3);
      const jsm = await nc.jetstreamManager();
      const si = await jsm.streams.info(names.stream("orders", 1));
      expect(si.config.num_replicas).toBe(3);
      expect(si.cluster?.replicas?.length).toBe(2);
      expect((await jsm.streams.info(`KV_${names.bucket}`)).config.num_replicas).toBe(3);

      expect((await broker.createTopic("single", { replicas: 1 })).replicas).toBe(1);
      expect((await jsm.streams.info(names.stream("single", 0))).config.num_replicas).toBe(1);
      expect((await broker.configureTopic("single", { replicas: 3 })).replicas).toBe(3);
      expect((await jsm.streams.info(names.stream("single", 0))).config.num_replicas).toBe(3);
      expect((await broker.getTopic("single"))?.replicas).toBe(3);
    } finally {
      await broker.stop();
    }
  });

  it("takes the replicas option as the default; topics may still ask for what the cluster keeps", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    const broker = createNatsBroker({ servers: cluster.url, prefix, replicas: 1 });
    await broker.start();
    try {
      expect((await broker.createTopic("plain")).replicas).toBe(1);
      expect((await broker.createTopic("copied", { replicas: 3 })).replicas).toBe(3);
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info(`KV_${names.bucket}`)).config.num_replicas).toBe(1);
    } finally {
      await broker.stop();
    }
  });

  it("says a topic of 3 copies cannot be made while a server is down as an outage, not a setting to lower", async () => {
    const prefix = uniquePrefix();
    // Not the meta leader, stopped as an operator stops it: it tells the others it is going,
    // and from then on JetStream places nothing on it. The broker is connected to the others,
    // so that what it meets is the missing peer, not its own reconnect.
    const leader = cluster.nodeByName(await cluster.metaLeader());
    const down = cluster.servers.find((s) => s !== leader) as TestNatsNode;
    const broker = await started(cluster.servers.filter((s) => s !== down).map((s) => s.url), prefix);
    try {
      await down.kill("SIGTERM");
      await expect.poll(() => offlinePeers(leader), { timeout: 30_000 }).toContain(down.name);
      const err = (await broker.createTopic("late").then(() => undefined, (e: unknown) => e)) as RiffError;
      expect(err.code).toBe("RIFF_BROKER_UNAVAILABLE");
      expect(err.message).toContain("topic 'late': NATS cannot place 3 copies now");
      expect(err.message).toContain("a NATS server is down or cut off");
      expect(err.hint).not.toContain("replicas: 1");
      await down.restart();
      await cluster.ready();
      expect((await broker.createTopic("late")).replicas).toBe(3);
    } finally {
      await broker.stop();
      if (!down.running) await down.restart();
    }
  }, 120_000);

  it("reads a partition again as soon as its connection comes back from a server that stopped, and loses nothing", async () => {
    const prefix = uniquePrefix();
    const lines: LogLine[] = [];
    const reader = createNatsBroker({ servers: cluster.url, prefix, logger: recordingLogger(lines) });
    await reader.start();
    // The server the reader is connected to stops; the writer's is another, which stays up.
    const first = cluster.servers.find((s) => s.url.endsWith(`//${reader.health().server ?? ""}`)) as TestNatsNode;
    // A publish waits out the election if the stopped server led the stream (seconds; more on a busy machine).
    const writer = createNatsBroker({ servers: cluster.servers.filter((s) => s !== first).map((s) => s.url), prefix, publishRetryMs: 60_000 });
    await writer.start();
    try {
      await writer.createTopic("moving");
      expect(await reader.getTopic("moving")).toBeDefined();
      const consumer = reader.consume("moving", "g");
      const it = consumer[Symbol.asyncIterator]();
      await writer.publish("moving", { payload: bytes("before") });
      expect((await it.next()).value?.map((m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload))).toEqual(["before"]);
      await first.kill("SIGTERM");
      await expect.poll(() => lines.some((l) => l.msg === "the connection to NATS came back; reading the partition again"), { timeout: 30_000 }).toBe(true);
      await writer.publish("moving", { payload: bytes("after") });
      const next = await it.next();
      expect(next.value?.map((m: { payload: Uint8Array }) => new TextDecoder().decode(m.payload))).toEqual(["after"]);
      await consumer.close();
    } finally {
      await Promise.all([reader.stop(), writer.stop()]);
      if (!first.running) await first.restart();
      await cluster.ready();
    }
  }, 120_000);

  it("keeps every acknowledged message, once and in order, when the stream leader is killed mid-publish", async () => {
    const prefix = uniquePrefix();
    const names = natsNames(prefix);
    // A leader election takes 4-9 s on 2.9, more on a loaded machine: a retry budget to match.
    const broker = createNatsBroker({ servers: cluster.url, prefix, publishRetryMs: 20_000 });
    await broker.start();
    const stream = names.stream("payments", 0);
    let leader: TestNatsNode | undefined;
    try {
      await broker.createTopic("payments");
      leader = cluster.nodeByName(await cluster.streamLeader(stream));
      const acked: string[] = [];
      const failures: unknown[] = [];
      // Batches of 20 in flight, one after another; the leader dies under the 11th. Then on
      // until 20 batches have been stored since, and at most 40 s.
      let sinceKill = 0;
      const deadline = Date.now() + 40_000;
      for (let batch = 0; sinceKill < 20 && Date.now() < deadline; batch++) {
        const payloads = Array.from({ length: 20 }, (_, i) => `${String(batch).padStart(5, "0")}-${String(i).padStart(2, "0")}`);
        const sent = broker.publishBatch("payments", payloads.map((p) => ({ payload: bytes(p) })));
        if (batch === 10) await leader.kill("SIGKILL");
        await sent.then(
          () => {
            acked.push(...payloads);
            if (batch >= 10) sinceKill++;
          },
          (err: unknown) => failures.push(err),
        );
      }
      expect(sinceKill).toBe(20);
      // A publish may fail while no leader is elected, but only as "unavailable, retry".
      for (const err of failures) expect((err as RiffError).code).toBe("RIFF_BROKER_UNAVAILABLE");

      // Read back once the node is back: on 2.9 a read's consumer can fail to be created for
      // a long time while a peer of its stream is down (see docs/broker-nats.md).
      await leader.restart();
      await cluster.ready();
      const end = (await broker.endOffsets("payments"))[0]?.end ?? 0;
      const stored: string[] = [];
      while (stored.length < end) {
        const page = await broker.read("payments", 0, stored.length, 1000);
        stored.push(...page.map((m) => new TextDecoder().decode(m.payload)));
      }
      expect(new Set(stored).size).toBe(stored.length);
      const storedSet = new Set(stored);
      expect(acked.filter((p) => !storedSet.has(p))).toEqual([]);
      const ackedSet = new Set(acked);
      const ackedInStore = stored.filter((p) => ackedSet.has(p));
      expect(ackedInStore).toEqual([...ackedInStore].sort());
    } finally {
      await broker.stop();
      if (leader?.running === false) await leader.restart();
    }
  }, 120_000);
});

/** The peers the JetStream meta leader counts offline (only the leader's /jsz lists them). */
async function offlinePeers(leader: TestNatsNode): Promise<string[]> {
  const jsz = (await (await fetch(`${leader.monitorUrl}/jsz`)).json()) as { meta_cluster?: { replicas?: { name: string; offline?: boolean }[] } };
  return (jsz.meta_cluster?.replicas ?? []).filter((r) => r.offline === true).map((r) => r.name);
}
