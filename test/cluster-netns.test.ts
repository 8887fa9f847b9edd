import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import {
  doubleOwnership,
  listNodes,
  postMessages,
  readRecords,
  recorderSource,
  startRiffCluster,
  takeovers,
  waitFor,
  type NodeRow,
  type RiffCluster,
  type RiffNode,
  type RunRecord,
} from "./helpers/cluster.js";
import { createNetworkTopology, type NetworkTopology } from "./helpers/netns.js";

// The network-partition sibling of cluster-ownership.test.ts: node 2 keeps running but loses
// its link, so it can neither renew its leases nor be reached. Node 1 must take its partitions,
// node 2 must run nothing under the leases it lost, and once the link is back it must rejoin by
// itself. Every wait is on records or CLI answers, bounded so that a hang names what it awaited.
const PARTITIONS = 4;
/** Leases last 4 s; a takeover, a rejoin or a drain well past that is a failure, not a slow run. */
const WAIT_MS = 15_000;
/**
 * A backstop above the sum of the bounded waits: a vitest timeout would skip the disposals
 * and leave daemons running in namespaces. A passing run takes about 25 s.
 */
const TEST_TIMEOUT_MS = 120_000;

const key = (i: number) => `k${i % 64}`;
const holdsRecorder = (partitions: string[]) => partitions.some((p) => p.startsWith("recorder:"));

/** Deploys the recorder on node `at`, reading `work` (4 partitions), writing `records`, with a replica on each node. */
async function deployRecorder(riff: RiffCluster, at: RiffNode): Promise<void> {
  const dir = mkdtempSync(join(riff.work, "recorder-"));
  writeFileSync(join(dir, "recorder.js"), recorderSource(5));
  const r = await at.cli(["create", "node", "--name", "recorder", "--input", "work", "--output", "records", "--partitions", String(PARTITIONS), "--min-replicas", "2", "--filepath", dir]);
  expect(r.code, r.stderr).toBe(0);
}

/** The recorder's partitions (`work/0`...) dealt to `name` in `riff nodes` rows, if any. */
function partitionsOf(rows: NodeRow[], name: string): string[] | undefined {
  const dealt = rows.find((n) => n.name === name && n.health === "ok")?.partitions ?? [];
  return holdsRecorder(dealt) ? dealt.map((p) => p.replace("recorder: ", "")) : undefined;
}

/** Tails `records` on `node` until `done`, failing after WAIT_MS with what had arrived by then. */
async function recordsUntil(node: RiffNode, what: string, done: (records: RunRecord[]) => boolean): Promise<RunRecord[]> {
  let seen: RunRecord[] = [];
  const tail = readRecords(node, "records", (rs) => done((seen = rs)));
  const timer = setTimeout(() => tail.stop(), WAIT_MS);
  try {
    return await tail.records;
  } catch (err) {
    const counts = new Map<string, number>();
    for (const r of seen) counts.set(`${r.node} ${r.partition}`, (counts.get(`${r.node} ${r.partition}`) ?? 0) + 1);
    throw new Error(`${what}: not within ${WAIT_MS} ms; ${seen.length} records (${[...counts].map(([k, n]) => `${k}: ${n}`).join(", ")})`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

const processedAll = (acked: Set<string>) => (rs: RunRecord[]) => {
  const ids = new Set(rs.map((r) => r.id));
  return [...acked].every((id) => ids.has(id));
};

function report(label: string, acked: Set<string>, records: RunRecord[], extra: Record<string, unknown>): void {
  const ids = records.map((r) => r.id);
  const processed = new Set(ids);
  const lost = [...acked].filter((id) => !processed.has(id)).length;
  console.log(JSON.stringify({ test: label, acknowledged: acked.size, processed: processed.size, lost, duplicates: ids.length - processed.size, ...extra }));
}

/** Cut node 2's link under load, wait for node 1 to take over, restore it, and load both again. */
async function cutAndRestore(topology: NetworkTopology, riff: RiffCluster): Promise<void> {
  const [a, b] = riff.nodes as [RiffNode, RiffNode];
  await deployRecorder(riff, a);
  await waitFor("both nodes dealt recorder partitions", async () => {
    const rows = await listNodes(a);
    return partitionsOf(rows, "n1") !== undefined && partitionsOf(rows, "n2") !== undefined ? true : undefined;
  }, { timeoutMs: WAIT_MS });
  const first = await postMessages({ urls: () => [a.url, b.url], topic: "work", from: 0, to: 400, concurrency: 8, key });
  expect(first.refused, `first load: ${JSON.stringify([...first.statuses])}`).toBe(0);
  // `riff nodes` shows the partitions dealt to a node, not the leases it holds: wait until
  // node 2 runs messages, so that the cut takes leases away from a node at work.
  await recordsUntil(a, "node 2 running messages of its partitions", (rs) => rs.some((r) => r.node === "n2"));
  await topology.cut(2);
  const cutAt = Date.now();
  // Node 2's partitions: where it ran something before the cut (those records are all in once
  // every acknowledged message is).
  const victimIn = (rs: RunRecord[]) => [...new Set(rs.filter((r) => r.node === "n2" && r.start < cutAt).map((r) => r.partition))];
  const takenOver = (rs: RunRecord[], p: string) => rs.filter((r) => r.partition === p && r.node === "n1" && r.start > cutAt);
  // Only node 1 is reachable now. Node 2's share of `work` waits in NATS until node 1 takes
  // over its partitions, which the records below wait for.
  const second = await postMessages({ urls: () => [a.url], topic: "work", from: 400, to: 1200, concurrency: 8, key });
  const acked = new Set([...first.acked, ...second.acked]);
  const taken = await recordsUntil(a, "node 1 running node 2's partitions and every acknowledged message", (rs) => processedAll(acked)(rs) && victimIn(rs).every((p) => takenOver(rs, p).length > 0));
  // Per partition: one node 2 had handed over before the cut is not counted (see takeovers).
  const { perPartition: takeover, ms: takeoverMs } = takeovers(taken, { victim: "n2", survivor: "n1", at: cutAt });
  report("network cut of a riff node under load: node 1 took over", acked, taken, { takeoverMs, takeover });
  expect(doubleOwnership(taken)).toEqual([]);

  await topology.restore(2);
  const restoredAt = Date.now();
  // Node 2 was neither restarted nor told: it must reconnect, see its leases gone and rejoin.
  // First its own view catches up (right after the restore it still shows its pre-cut share).
  const seenByB = await waitFor("node 2 listing both nodes ok", async () => {
    const rows = await listNodes(b);
    return ["n1", "n2"].every((name) => rows.some((n) => n.name === name && n.health === "ok")) ? rows : undefined;
  }, { timeoutMs: WAIT_MS });
  expect(seenByB.map((n) => `${n.name} ${n.health}`).sort()).toEqual(["n1 ok", "n2 ok"]);
  let n1View = "";
  const dealt = await waitFor(
    "node 1 seeing node 2 dealt recorder partitions again",
    async () => {
      const rows = await listNodes(a);
      n1View = JSON.stringify(rows.map(({ name, health, replicas, partitions }) => ({ name, health, replicas, partitions })));
      return partitionsOf(rows, "n2");
    },
    { timeoutMs: WAIT_MS, describe: () => n1View },
  ).catch(async (err: Error) => {
    const described = await a.cli(["describe", "function", "recorder", "-o", "json"]);
    const placement = described.code === 0 ? JSON.stringify((JSON.parse(described.stdout) as { placement?: unknown }).placement) : described.stderr;
    throw new Error(`${err.message}; the recorder's placement: ${placement}`, { cause: err });
  });
  const rejoinMs = Date.now() - restoredAt;

  const third = await postMessages({ urls: () => [a.url, b.url], topic: "work", from: 1200, to: 1600, concurrency: 8, key });
  for (const id of third.acked) acked.add(id);
  const records = await recordsUntil(a, "every acknowledged message processed after the restore", processedAll(acked));
  const afterRestore = records.filter((r) => r.node === "n2" && r.start > restoredAt);
  report("network cut of a riff node under load, then restore", acked, records, {
    takeoverMs,
    rejoinMs,
    dealtAfterRestore: dealt,
    refusedAfterCut: second.refused,
    refusedAfterRestore: third.refused,
    n2AfterRestore: afterRestore.length,
    n2BackMs: Math.min(...afterRestore.map((r) => r.start - restoredAt)),
  });
  expect([...acked].filter((id) => !records.some((r) => r.id === id))).toEqual([]);
  expect(doubleOwnership(records)).toEqual([]);
  expect(afterRestore.length).toBeGreaterThan(0);
}

describe("partition ownership across riff nodes in network namespaces", () => {
  it(
    "moves a cut-off node's partitions to the other; the node rejoins by itself once its link is back",
    async () => {
      // Disposed in reverse: the link back up, riff nodes, NATS, then the namespaces they ran in.
      await using topology = await createNetworkTopology({ nodes: 2, tag: "own" });
      await using nats = await startTestNatsCluster({ netns: topology.hub.netns, host: topology.hub.ip });
      await using riff = await startRiffCluster({ servers: nats.urls, count: 2, topology });
      // A failure while node 2 is cut off would otherwise leave its clean stop to time out.
      await using _link = { [Symbol.asyncDispose]: async () => (topology.isolated(2) ? topology.restore(2) : undefined) };
      await cutAndRestore(topology, riff);
    },
    TEST_TIMEOUT_MS,
  );
});
