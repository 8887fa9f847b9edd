import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsCluster, type TestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import { doubleOwnership, listNodes, takeovers, postMessages, waitFor, readRecords, recorderSource, startRiffCluster, type RiffCluster, type RiffNode, type RunRecord } from "./helpers/cluster.js";

// Each message runs in exactly one place at a time: a partition is leased to one node, and a
// node that loses its lease (killed, paused) stops before another takes it. Every function
// records where each message ran (node, process, lease generation), so the tests can check.
const PARTITIONS = 4;

/** Deploys the recorder on node `at`, reading `work` (4 partitions), writing `records`, with a replica on each node. */
async function deployRecorder(riff: RiffCluster, at: RiffNode): Promise<void> {
  const dir = mkdtempSync(join(riff.work, "recorder-"));
  writeFileSync(join(dir, "recorder.js"), recorderSource(5));
  const r = await at.cli(["create", "node", "--name", "recorder", "--input", "work", "--output", "records", "--partitions", String(PARTITIONS), "--min-replicas", "2", "--filepath", dir]);
  expect(r.code, r.stderr).toBe(0);
}

/** Waits until both nodes hold partitions of the recorder (the leader placed a replica on each). */
async function spreadOverBoth(riff: RiffCluster): Promise<void> {
  const [a] = riff.nodes as [RiffNode];
  await waitFor("both nodes holding partitions of the recorder", async () => {
    const nodes = await listNodes(a);
    return nodes.filter((n) => n.partitions.some((p) => p.startsWith("recorder:"))).length === 2 ? true : undefined;
  }, { timeoutMs: 30_000 });
}

/** The partitions `node` holds of the recorder now. */
async function heldBy(node: RiffNode, name: string): Promise<string[]> {
  const { nodes } = JSON.parse((await node.cli(["nodes", "-o", "json"])).stdout) as { nodes: { name: string; partitions: string[] }[] };
  return (nodes.find((n) => n.name === name)?.partitions ?? []).map((p) => p.replace("recorder: ", ""));
}

function report(label: string, acked: Set<string>, records: RunRecord[], extra: Record<string, unknown> = {}): void {
  const ids = records.map((r) => r.id);
  const processed = new Set(ids);
  const lost = [...acked].filter((id) => !processed.has(id)).length;
  console.log(JSON.stringify({ test: label, acknowledged: acked.size, processed: processed.size, lost, duplicates: ids.length - processed.size, ...extra }));
}

describe("partition ownership across riff nodes", () => {
  let nats: TestNatsCluster;
  beforeAll(async () => {
    nats = await startTestNatsCluster();
  });
  afterAll(async () => nats.stop());

  it("under /messages load on two nodes, processes every message at least once, each partition in one place at a time", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a] = riff.nodes as [RiffNode, RiffNode];
    await deployRecorder(riff, a);
    await spreadOverBoth(riff);
    const load = await postMessages({ urls: () => riff.nodes.map((n) => n.url), topic: "work", from: 0, to: 2000, concurrency: 16, key: (i) => `k${i % 64}` });
    expect(load.acked.size).toBe(2000);
    const records = await readRecords(a, "records", (rs) => new Set(rs.map((r) => r.id)).size >= load.acked.size).records;
    report("two nodes under load", load.acked, records);
    expect(new Set(records.map((r) => r.node))).toEqual(new Set(["n1", "n2"]));
    expect(doubleOwnership(records)).toEqual([]);
  });

  it("moves a killed node's partitions to the other: every acknowledged message is processed", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = riff.nodes as [RiffNode, RiffNode];
    await deployRecorder(riff, a);
    await spreadOverBoth(riff);
    const victim = await heldBy(a, "n2");
    expect(victim.length).toBeGreaterThan(0);
    const alive = new Set([a, b]);
    const urls = () => [...alive].map((n) => n.url);
    const before = await postMessages({ urls, topic: "work", from: 0, to: 1000, concurrency: 16, key: (i) => `k${i % 64}` });
    let killedAt = 0;
    // Killed in the middle of the second load, once 200 of it were acknowledged.
    const after = await postMessages({
      urls,
      topic: "work",
      from: 1000,
      to: 3000,
      concurrency: 16,
      key: (i) => `k${i % 64}`,
      acked: (n) => {
        if (n !== 200) return;
        killedAt = Date.now();
        alive.delete(b);
        b.signal("SIGKILL");
      },
    });
    const acked = new Set([...before.acked, ...after.acked]);
    const records = await readRecords(a, "records", (rs) => [...acked].every((id) => rs.some((r) => r.id === id))).records;
    const takeover = takeovers(records, { victim: "n2", survivor: "n1", at: killedAt });
    report("kill -9 of a riff node under load", acked, records, { takeoverMs: takeover.ms, takeover: takeover.perPartition });
    expect([...acked].filter((id) => !records.some((r) => r.id === id))).toEqual([]);
    // Node 2 was running partitions when it died, and node 1 ran every one of them afterwards.
    expect(Object.keys(takeover.perPartition).length).toBeGreaterThan(0);
    expect(takeover.ms).toBeDefined();
    expect(doubleOwnership(records)).toEqual([]);
    // Killed, it said no goodbye: node 1 lists it as gone, with when it was last heard of (not
    // compared with the kill: a heartbeat sent just before it may be read just after).
    const gone = await waitFor("node 1 no longer listing n2 as live", async () => (await listNodes(a)).find((n) => n.name === "n2" && n.health !== "ok"), { timeoutMs: 10_000 });
    expect(gone.health).toBe("gone");
    expect(Date.parse(gone.lastSeen ?? "")).toBeLessThan(Date.now());
  });

  it("fences a node paused past its lease: after SIGCONT it runs nothing more under its old lease", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = riff.nodes as [RiffNode, RiffNode];
    await deployRecorder(riff, a);
    await spreadOverBoth(riff);
    const victim = await heldBy(a, "n2");
    const first = await postMessages({ urls: () => [a.url], topic: "work", from: 0, to: 400, concurrency: 8, key: (i) => `k${i % 64}` });
    b.signal("SIGSTOP");
    const pausedAt = Date.now();
    // Node 1 takes node 2's partitions once the leases expire; the records below wait for it.
    const second = await postMessages({ urls: () => [a.url], topic: "work", from: 400, to: 1200, concurrency: 8, key: (i) => `k${i % 64}` });
    const acked = new Set([...first.acked, ...second.acked]);
    const taken = await readRecords(a, "records", (rs) => victim.every((p) => rs.some((r) => r.partition === p && r.node === "n1" && r.start > pausedAt)) && [...acked].every((id) => rs.some((r) => r.id === id))).records;
    b.signal("SIGCONT");
    // Node 2 comes back: it must see its leases gone, and run nothing under them.
    const third = await postMessages({ urls: () => [a.url, b.url], topic: "work", from: 1200, to: 1600, concurrency: 8, key: (i) => `k${i % 64}` });
    for (const id of third.acked) acked.add(id);
    const records = await readRecords(a, "records", (rs) => [...acked].every((id) => rs.some((r) => r.id === id))).records;
    report("SIGSTOP past the lease, then SIGCONT", acked, records, { pausedMs: Date.now() - pausedAt, beforeResume: taken.length });
    expect(doubleOwnership(records)).toEqual([]);
  });
});
