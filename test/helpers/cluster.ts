import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeRow } from "@riff/core";
import { onTestFinished } from "vitest";
import type { NetworkTopology } from "./netns.js";
import { cli, RIFF_BIN, type CliResult } from "./riff.js";

/** One node as `riff nodes -o json` lists it. */
export type { NodeRow };

/** One riff node of a test cluster: a daemon with a home of its own. */
export interface RiffNode {
  readonly name: string;
  readonly home: string;
  /** The node's gateway and admin API. */
  readonly url: string;
  pid(): number;
  /** Runs `riff ...args` against this node. */
  cli(args: string[], cwd?: string): Promise<CliResult>;
  /** Sends `signal` to the daemon (SIGKILL by default: a crash). */
  signal(signal?: NodeJS.Signals): void;
  /** Starts the daemon again on the same home, as the same node. */
  restart(): Promise<void>;
  /** Whether the daemon's process still exists. */
  alive(): boolean;
}

/** Riff nodes on one NATS cluster, under a cluster name of their own. */
export interface RiffCluster {
  readonly name: string;
  readonly nodes: RiffNode[];
  /** A scratch folder for function sources, removed with the cluster. */
  readonly work: string;
  /** Starts one more node. */
  add(options?: NodeOptions): Promise<RiffNode>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Where one node runs. */
export interface NodeOptions {
  /** Run the daemon inside this network namespace, listening on `host`. */
  netns?: string;
  host?: string;
  args?: string[];
}

/**
 * Clusters not yet disposed: a test that times out never reaches its `await using`, and the
 * setup file disposes what is left here after each test file.
 */
export const liveClusters = new Set<RiffCluster>();

/**
 * Starts `count` riff nodes joined to the NATS servers at `servers` as one riff cluster (a
 * random cluster name, so tests may share a NATS cluster). With `topology`, node k runs in
 * the topology's namespace k and listens on its address. Every node is stopped (`riff system
 * stop`, then SIGKILL by pid) and its home removed on dispose.
 */
export async function startRiffCluster(o: { servers: string[]; count: number; topology?: NetworkTopology; args?: string[] }): Promise<RiffCluster> {
  const name = `rc${randomBytes(3).toString("hex")}`;
  const work = mkdtempSync(join(tmpdir(), "riff-cluster-work-"));
  const nodes: RiffNode[] = [];
  const add = async (options: NodeOptions = {}): Promise<RiffNode> => {
    const node = await startNode({ servers: o.servers, cluster: name, node: `n${nodes.length + 1}`, topology: o.topology, ...options, args: [...(o.args ?? []), ...(options.args ?? [])] });
    nodes.push(node);
    return node;
  };
  const cluster: RiffCluster = {
    name,
    nodes,
    work,
    add,
    async [Symbol.asyncDispose]() {
      liveClusters.delete(cluster);
      await Promise.all(nodes.map((n) => stopNode(n)));
      rmSync(work, { recursive: true, force: true });
    },
  };
  liveClusters.add(cluster);
  // The homes outlive the nodes' stop, to the test's end: its outcome decides whether their
  // logs are kept (a thrown assertion disposes of the cluster before the test is known failed).
  onTestFinished(({ task }) => {
    if (task.result?.state === "fail") keepLogs(cluster);
    for (const n of nodes) rmSync(n.home, { recursive: true, force: true });
  });
  try {
    for (let k = 1; k <= o.count; k++) {
      const node = o.topology?.nodes[k - 1];
      await add(node === undefined ? {} : { netns: node.netns, host: node.ip });
    }
  } catch (err) {
    await cluster[Symbol.asyncDispose]();
    throw err;
  }
  return cluster;
}

async function startNode(o: { servers: string[]; cluster: string; node: string; topology?: NetworkTopology | undefined; netns?: string | undefined; host?: string | undefined; args: string[] }): Promise<RiffNode> {
  const home = mkdtempSync(join(tmpdir(), `riff-${o.node}-`));
  const args = ["system", "start", "--port", "0", "--cluster", o.servers.join(","), "--cluster-name", o.cluster, "--node-name", o.node, ...(o.host === undefined ? [] : ["--host", o.host]), ...o.args];
  const start = async () => {
    const r = o.netns === undefined || o.topology === undefined ? await cli(home, args) : await cliIn(o.topology, o.netns, home, args);
    if (r.code !== 0) {
      let log = "";
      try {
        log = readFileSync(join(home, "daemon.log"), "utf8").split("\n").slice(-15).join("\n");
      } catch {
        // no log yet
      }
      throw new Error(`riff node ${o.node} did not start (${r.code}): ${r.stderr}\n${log}`);
    }
  };
  try {
    await start();
  } catch (err) {
    rmSync(home, { recursive: true, force: true });
    throw err;
  }
  const info = () => JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number; url: string };
  let current = info();
  return {
    name: o.node,
    home,
    get url() {
      return current.url;
    },
    pid: () => current.pid,
    cli: (cliArgs, cwd) => cli(home, cliArgs, cwd),
    signal: (signal = "SIGKILL") => process.kill(current.pid, signal),
    alive() {
      try {
        process.kill(current.pid, 0);
        return true;
      } catch {
        return false;
      }
    },
    async restart() {
      await start();
      current = info();
    },
  };
}

/** `riff system start` run inside a namespace: the daemon it starts stays there. */
function cliIn(topology: NetworkTopology, netns: string, home: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = topology.exec(netns, process.execPath, [RIFF_BIN, ...args], { env: { ...process.env, RIFF_HOME: home }, cwd: home });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("exit", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

async function stopNode(n: RiffNode): Promise<void> {
  if (n.alive()) {
    try {
      process.kill(n.pid(), "SIGCONT");
    } catch {
      // gone meanwhile
    }
    // Bounded: a node cut off from NATS may not manage a clean stop; it is killed below.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([n.cli(["system", "stop"]), new Promise((resolve) => (timer = setTimeout(resolve, 20_000)))]);
    clearTimeout(timer);
  }
  try {
    process.kill(n.pid(), "SIGKILL");
  } catch {
    // already gone
  }
}

/** What a recording function says about each message it handled. */
export interface RunRecord {
  id: string;
  partition: string;
  offset: number;
  generation: number;
  node: string;
  /** A random id the replica chose when it loaded the function. */
  replica: string;
  start: number;
  end: number;
}

/**
 * A node function that answers every message with a {@link RunRecord} of who handled it, where
 * and under which lease generation, after `workMs` of work.
 */
export function recorderSource(workMs: number): string {
  return `// Sandboxed replicas all see themselves as pid 2: a random id tells them apart.
const replica = Math.random().toString(36).slice(2);
module.exports = async ({ headers, payload }) => {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, ${workMs}));
  const h = (name) => (headers[name] || [])[0];
  return { id: String(payload), partition: h("riff-partition"), offset: Number(h("riff-offset")), generation: Number(h("riff-generation")), node: process.env.RIFF_NODE_NAME, replica, start, end: Date.now() };
};
module.exports.$argumentType = "message";
`;
}

/** What a load of `/messages` got: the ids answered 202, and how many were not. */
export interface LoadResult {
  acked: Set<string>;
  refused: number;
  statuses: Map<number, number>;
}

/**
 * Posts messages `m<from>`..`m<to-1>` to `/messages/<topic>`, `concurrency` at a time, each
 * to the next of `urls()` (asked anew, so a test can drop a dead node), keyed by `key(i)`.
 * Stops early when `signal` aborts. A message is acknowledged only on 202.
 */
export async function postMessages(o: {
  urls: () => string[];
  topic: string;
  from: number;
  to: number;
  concurrency: number;
  key?: (i: number) => string;
  signal?: AbortSignal;
  /** Called after each 202 with how many there were so far. */
  acked?: (count: number) => void;
}): Promise<LoadResult> {
  const result: LoadResult = { acked: new Set(), refused: 0, statuses: new Map() };
  let next = o.from;
  const worker = async () => {
    while (next < o.to && o.signal?.aborted !== true) {
      const i = next++;
      const urls = o.urls();
      const url = urls[i % urls.length] as string;
      const headers: Record<string, string> = { "content-type": "text/plain" };
      if (o.key !== undefined) headers["x-riff-key"] = o.key(i);
      let status = 0;
      try {
        const res = await fetch(`${url}/messages/${o.topic}`, { method: "POST", headers, body: `m${i}`, signal: AbortSignal.timeout(30_000) });
        status = res.status;
        await res.arrayBuffer();
      } catch {
        status = 0;
      }
      result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1);
      if (status === 202) {
        result.acked.add(`m${i}`);
        o.acked?.(result.acked.size);
      } else result.refused++;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return result;
}

/** Reads `riff topics tail TOPIC -f -o json` on `node` until `done(records)`; the payloads are JSON records. */
export function readRecords(node: RiffNode, topic: string, done: (records: RunRecord[]) => boolean): { records: Promise<RunRecord[]>; stop(): void } {
  const child = spawn(process.execPath, [RIFF_BIN, "topics", "tail", topic, "--from-beginning", "-f", "-o", "json", "-n", "1000000"], {
    env: { ...process.env, RIFF_HOME: node.home },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const records: RunRecord[] = [];
  const result = new Promise<RunRecord[]>((resolve, reject) => {
    let rest = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l !== "") records.push(JSON.parse((JSON.parse(l) as { payload: string }).payload) as RunRecord);
      if (done(records)) {
        child.kill();
        resolve(records);
      }
    });
    child.once("exit", () => reject(new Error(`the tail of ${topic} ended with ${records.length} records`)));
  });
  return { records: result, stop: () => child.kill() };
}

/**
 * The takeover after `victim` was lost at `at`: for each partition it held then (the node of
 * the partition's last record before `at`; one handed over earlier is not its), how long until
 * `survivor` ran a message of it; `ms` is the longest of those, when every partition was taken.
 */
export function takeovers(records: RunRecord[], o: { victim: string; survivor: string; at: number }): { perPartition: Record<string, number | undefined>; ms: number | undefined } {
  const held = new Map<string, RunRecord>();
  for (const r of records) {
    const last = held.get(r.partition);
    if (r.start < o.at && (last === undefined || r.start > last.start)) held.set(r.partition, r);
  }
  const perPartition: Record<string, number | undefined> = {};
  for (const [partition, last] of [...held].sort(([a], [b]) => a.localeCompare(b))) {
    if (last.node !== o.victim) continue;
    const after = records.filter((r) => r.partition === partition && r.node === o.survivor && r.start >= o.at).map((r) => r.start - o.at);
    perPartition[partition] = after.length === 0 ? undefined : Math.min(...after);
  }
  const times = Object.values(perPartition);
  return { perPartition, ms: times.length > 0 && times.every((t) => t !== undefined) ? Math.max(...(times as number[])) : undefined };
}

/**
 * Checks that no partition ran on two replicas at once: per partition, records sorted by start
 * never overlap across replicas, and generations never go back. Returns the offending pairs.
 */
export function doubleOwnership(records: RunRecord[]): string[] {
  const problems: string[] = [];
  const byPartition = new Map<string, RunRecord[]>();
  for (const r of records) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  for (const [partition, list] of byPartition) {
    list.sort((a, b) => a.start - b.start || a.end - b.end);
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as RunRecord;
      const b = list[i] as RunRecord;
      const replica = (r: RunRecord) => `${r.node}/${r.replica}`;
      if (replica(a) !== replica(b) && b.start < a.end) problems.push(`${partition}: ${a.id} on ${replica(a)} (gen ${a.generation}) overlaps ${b.id} on ${replica(b)} (gen ${b.generation})`);
      if (b.generation < a.generation) problems.push(`${partition}: ${b.id} ran under generation ${b.generation} after ${a.id} under ${a.generation}`);
    }
  }
  return problems;
}

/** `riff nodes -o json` asked of `node`; throws with the CLI's exit code and stderr if it fails. */
export async function listNodes(node: RiffNode): Promise<NodeRow[]> {
  const r = await node.cli(["nodes", "-o", "json"]);
  if (r.code !== 0) throw new Error(`riff nodes on ${node.name} exited ${r.code}: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { nodes: NodeRow[] }).nodes;
}

/**
 * Asks `probe` every `intervalMs` until it returns something other than `undefined`, and
 * returns that. After `timeoutMs` it throws, naming `what` and the probe's last answer or error.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, o: { timeoutMs: number; intervalMs?: number; describe?: () => string }): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  let last = "no answer yet";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = o.describe?.() ?? "not yet";
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${o.timeoutMs} ms; last: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, o.intervalMs ?? 100));
  }
}

/**
 * Copies the nodes' daemon.log files where a failed test leaves them, and says where: the
 * homes go with the cluster, and a failure (a timeout too) is read from these logs.
 */
function keepLogs(riff: RiffCluster): void {
  const kept = mkdtempSync(join(tmpdir(), `riff-${riff.name}-logs-`));
  for (const n of riff.nodes) {
    try {
      cpSync(join(n.home, "daemon.log"), join(kept, `${n.name}.daemon.log`));
    } catch {
      // This node wrote no log (it never started).
    }
  }
  console.error(`riff cluster ${riff.name}: the test failed; its nodes' daemon.log files are kept in ${kept}`);
}
