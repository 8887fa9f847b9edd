import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, logTail, pollUntil, spawnNatsServer, type NatsServerProcess } from "./nats-server.test-util.js";

/** @see TestNatsClusterOptions.size */
export const DEFAULT_CLUSTER_SIZE = 3;
/** @see TestNatsClusterOptions.host */
export const DEFAULT_CLUSTER_HOST = "127.0.0.1";
/** riff's servers need room for a 1 MiB message plus headers (docs/broker-nats.md). */
export const DEFAULT_CLUSTER_MAX_PAYLOAD = "2MB";
/** @see TestNatsClusterOptions.readyTimeoutMs */
export const DEFAULT_CLUSTER_READY_TIMEOUT_MS = 20_000;
/** A meta leader's peer counts towards its quorum if heard from this recently (see checkQuorum). */
const PEER_HEARD_WITHIN_MS = 3_000;
/** How long a SIGTERMed server may take to shut down before it gets SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** How {@link startTestNatsCluster} lays out its servers. Every field is optional. */
export interface TestNatsClusterOptions {
  /** @default DEFAULT_CLUSTER_SIZE */
  size?: number;
  /** The address every listener (client, route, monitor) binds. @default DEFAULT_CLUSTER_HOST */
  host?: string;
  /** Runs every server inside this network namespace (`ip netns exec`); `host` must be an address there. */
  netns?: string;
  /** @default DEFAULT_CLUSTER_MAX_PAYLOAD */
  maxPayload?: string;
  /** Bound on each wait for readiness (start, restart, `ready()`). @default DEFAULT_CLUSTER_READY_TIMEOUT_MS */
  readyTimeoutMs?: number;
}

/** One server of a {@link TestNatsCluster}. */
export interface TestNatsNode {
  /** `n1`..`nN`, its `server_name`, which is how the server names itself in /jsz and stream info. */
  readonly name: string;
  /** `nats://host:port`; the same across restarts. */
  readonly url: string;
  /** `http://host:port` of its monitoring endpoint; the same across restarts. */
  readonly monitorUrl: string;
  /** The nats-server's own pid (changes on restart). */
  readonly pid: number;
  readonly running: boolean;
  /** Its stderr, appended across restarts. */
  readonly logFile: string;
  /** Signals the server (SIGKILL unless told) and resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (stopping it first if it runs) on the same ports and store, resolving once it is ready. */
  restart(): Promise<void>;
}

/** A JetStream cluster of real nats-servers, all on one machine. */
export interface TestNatsCluster {
  /** `nats://host:port` per server, in `servers` order. */
  readonly urls: string[];
  /** Every URL, comma-separated: what a client is given. */
  readonly url: string;
  readonly servers: TestNatsNode[];
  /** The temp folder with configs, logs and stores; removed by `stop()`. */
  readonly dir: string;
  /**
   * Resolves once every running server is healthy (/healthz) and names a running JetStream meta
   * leader (/jsz), and that leader has a quorum of running peers it heard from lately.
   */
  ready(): Promise<void>;
  /** The server name of the JetStream meta leader, as that (running) leader reports itself. */
  metaLeader(): Promise<string>;
  /** The server name of `stream`'s Raft leader, as that (running) leader reports itself. */
  streamLeader(stream: string): Promise<string>;
  /** The server named `name`; throws if there is none. */
  nodeByName(name: string): TestNatsNode;
  /** SIGTERMs every running server, awaits their exits and removes `dir`. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One server's files and config; the config is a function of the client and monitor listen addresses. */
interface NodePlan {
  name: string;
  conf: string;
  logFile: string;
  config(client: string, monitor: string): string;
}

/** Full-mesh configs: every server names every other's route port. */
function planNodes(dir: string, host: string, routePorts: number[], maxPayload: string): NodePlan[] {
  const clusterName = `riff-${randomBytes(4).toString("hex")}`;
  return routePorts.map((routePort, i) => {
    const name = `n${i + 1}`;
    const routes = routePorts.filter((p) => p !== routePort).map((p) => JSON.stringify(`nats-route://${host}:${p}`));
    const config = (client: string, monitor: string) =>
      [
        `server_name: ${name}`,
        `listen: "${client}"`,
        `http: "${monitor}"`,
        `max_payload: ${maxPayload}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, name))} }`,
        `cluster { name: ${clusterName}, listen: "${host}:${routePort}", routes: [${routes.join(", ")}] }`,
        ``,
      ].join("\n");
    return { name, conf: join(dir, `${name}.conf`), logFile: join(dir, `${name}.log`), config };
  });
}

/** What a server's first start settled: its process and the ports it picked, pinned from then on. */
interface FirstStart {
  server: NatsServerProcess;
  client: string;
  monitor: string;
}

async function firstStart(plan: NodePlan, host: string, netns: string | undefined, timeoutMs: number): Promise<FirstStart> {
  // The server picks its client and monitor ports (-1); the config is then pinned to them so
  // that a restart comes back where clients and tests expect it.
  writeFileSync(plan.conf, plan.config(`${host}:-1`, `${host}:-1`));
  const { server, addresses } = await spawnNatsServer({ conf: plan.conf, logFile: plan.logFile, netns, timeoutMs }).catch((err: Error) => {
    throw new Error(`${plan.name}: ${err.message}`, { cause: err });
  });
  const monitor = addresses.monitor ?? "";
  writeFileSync(plan.conf, plan.config(addresses.client, monitor));
  return { server, client: addresses.client, monitor };
}

/** A node whose `restart()` reruns the pinned config and waits for `untilReady`. */
function createNode(plan: NodePlan, first: FirstStart, netns: string | undefined, timeoutMs: number, untilReady: (node: TestNatsNode) => Promise<void>): TestNatsNode {
  let proc = first.server;
  const node: TestNatsNode = {
    name: plan.name,
    url: `nats://${first.client}`,
    monitorUrl: `http://${first.monitor}`,
    logFile: plan.logFile,
    get pid() {
      return proc.pid;
    },
    get running() {
      return proc.running;
    },
    kill: (signal = "SIGKILL") => proc.kill(signal),
    async restart() {
      await terminate(proc);
      proc = (await spawnNatsServer({ conf: plan.conf, logFile: plan.logFile, netns, timeoutMs })).server;
      await pollUntil(`${plan.name} ready after restart`, () => untilReady(node), timeoutMs).catch((err: Error) => {
        throw new Error(`${err.message}\n${logSection(node)}`);
      });
    },
  };
  return node;
}

/**
 * Starts a JetStream cluster of `size` nats-servers named n1..nN, fully meshed by routes, each
 * with its own store under one temp folder, and resolves once `ready()` does.
 */
export async function startTestNatsCluster(options: TestNatsClusterOptions = {}): Promise<TestNatsCluster> {
  const size = options.size ?? DEFAULT_CLUSTER_SIZE;
  const host = options.host ?? DEFAULT_CLUSTER_HOST;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_CLUSTER_READY_TIMEOUT_MS;
  // nats-server 2.9 refuses JetStream clustering without routes ("requires configured routes").
  if (!Number.isInteger(size) || size < 2) throw new Error(`cluster size ${size}: at least 2 (one server: startTestNatsServer)`);
  // Routes must name each other's ports before any server runs, so these are picked here; a
  // fresh namespace has every port free, so the root namespace's loopback is as good a place
  // to ask as any when the servers run elsewhere.
  const routePorts = await freePorts(size, options.netns === undefined ? host : "127.0.0.1");
  const dir = mkdtempSync(join(tmpdir(), "riff-nats-cluster-"));
  const plans = planNodes(dir, host, routePorts, options.maxPayload ?? DEFAULT_CLUSTER_MAX_PAYLOAD);
  const started = await Promise.allSettled(plans.map((plan) => firstStart(plan, host, options.netns, timeoutMs)));
  const failure = started.find((s) => s.status === "rejected");
  if (failure !== undefined) {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.server.kill("SIGKILL") : undefined)));
    rmSync(dir, { recursive: true, force: true });
    throw failure.reason;
  }

  const servers: TestNatsNode[] = [];
  const isRunning = (name: string) => servers.some((s) => s.name === name && s.running);
  const running = () => servers.filter((s) => s.running);
  started.forEach((s, i) => {
    const plan = plans[i];
    if (s.status === "fulfilled" && plan !== undefined) {
      servers.push(createNode(plan, s.value, options.netns, timeoutMs, (node) => checkReady(node, isRunning)));
    }
  });

  let stopped: Promise<void> | undefined;
  const cluster: TestNatsCluster = {
    urls: servers.map((s) => s.url),
    url: servers.map((s) => s.url).join(","),
    servers,
    dir,
    async ready() {
      let blamed: TestNatsNode[] = [];
      await pollUntil(
        "every running server healthy, with a JetStream meta leader that has a quorum",
        async () => {
          const nodes = running();
          const results = await Promise.allSettled(nodes.map((s) => checkReady(s, isRunning)));
          blamed = nodes.filter((_, i) => results[i]?.status === "rejected");
          const reasons = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
          if (reasons.length > 0) throw new Error(reasons.join("; "));
          const leader = cluster.nodeByName(await cluster.metaLeader());
          blamed = [leader];
          await checkQuorum(leader, servers.length, isRunning);
        },
        timeoutMs,
      ).catch((err: Error) => {
        throw new Error([err.message, ...blamed.map(logSection)].join("\n"));
      });
    },
    metaLeader: () => selfClaimedLeader(running(), "JetStream meta", async (s) => (await jsz(s)).meta_cluster?.leader),
    streamLeader: (stream) =>
      selfClaimedLeader(running(), `stream ${stream}`, async (s) => {
        const details = (await jsz(s, "?accounts=true&streams=true")).account_details ?? [];
        return details.flatMap((a) => a.stream_detail ?? []).find((d) => d.name === stream)?.cluster?.leader;
      }),
    nodeByName(name) {
      const node = servers.find((s) => s.name === name);
      if (node === undefined) throw new Error(`no server named ${name} (have ${servers.map((s) => s.name).join(", ")})`);
      return node;
    },
    stop() {
      stopped ??= (async () => {
        await Promise.all(servers.map((s) => (s.running ? terminate(s) : undefined)));
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
  try {
    await cluster.ready();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** A server's recent log, headed by its name, for an error message; without the warnings our own /healthz polling causes. */
const logSection = (node: TestNatsNode) => `--- ${node.name} (${node.logFile}) ---\n${logTail(node.logFile, 25, /Healthcheck failed/)}`;

/** SIGTERM, then SIGKILL if the server has not gone within STOP_GRACE_MS. */
async function terminate(proc: { kill(signal: NodeJS.Signals): Promise<void> }): Promise<void> {
  const force = setTimeout(() => void proc.kill("SIGKILL"), STOP_GRACE_MS);
  await proc.kill("SIGTERM");
  clearTimeout(force);
}

/** The parts of the monitoring endpoint's /jsz answer this harness reads (`active` is in ns). */
interface Jsz {
  meta_cluster?: { leader?: string; replicas?: { name: string; current?: boolean; active?: number }[] };
  account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
}

async function monitor(node: TestNatsNode, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${node.monitorUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.text() };
}

async function jsz(node: TestNatsNode, query = ""): Promise<Jsz> {
  const { status, body } = await monitor(node, `/jsz${query}`);
  if (status !== 200) throw new Error(`${node.name} /jsz: HTTP ${status} ${body.trim()}`);
  return JSON.parse(body) as Jsz;
}

/**
 * A server is ready when /healthz says ok (in 2.9 that includes "current with the meta leader")
 * and /jsz names a meta leader that is running: a follower keeps naming a killed leader until
 * the next election, and that is not a cluster one can create streams on.
 */
async function checkReady(node: TestNatsNode, isRunning: (name: string) => boolean): Promise<void> {
  const health = await monitor(node, "/healthz");
  if (health.status !== 200) throw new Error(`${node.name} /healthz: HTTP ${health.status} ${health.body.trim()}`);
  const leader = (await jsz(node)).meta_cluster?.leader;
  if (leader === undefined || leader === "") throw new Error(`${node.name} /jsz names no meta leader yet`);
  if (!isRunning(leader)) throw new Error(`${node.name} /jsz names ${leader} as meta leader, which is not running`);
}

/**
 * The meta leader must have a majority of running peers it heard from lately. In 2.9.10 a
 * leader whose peers all died keeps calling itself leader, and /healthz keeps saying ok, for
 * about 20 s. Peers this harness killed are known dead at once; for those cut off by other
 * means, /jsz `active` (time since the peer was last heard; heartbeats come every second) tells.
 */
async function checkQuorum(leader: TestNatsNode, size: number, isRunning: (name: string) => boolean): Promise<void> {
  const peers = (await jsz(leader)).meta_cluster?.replicas ?? [];
  const heard = peers.filter((p) => isRunning(p.name) && p.current === true && (p.active ?? Infinity) < PEER_HEARD_WITHIN_MS * 1e6);
  const quorum = Math.floor(size / 2) + 1;
  if (heard.length + 1 < quorum) {
    const live = [leader.name, ...heard.map((p) => p.name)].join(", ");
    throw new Error(`meta leader ${leader.name} has no quorum (${quorum} of ${size}): only ${live} running and heard from within ${PEER_HEARD_WITHIN_MS} ms`);
  }
}

/**
 * Asks every running server whom it takes for the leader and returns the one that names
 * itself. Followers report the last leader they knew, stale for the seconds an election takes
 * after that leader died; only the leader itself reliably knows it leads.
 */
async function selfClaimedLeader(
  nodes: TestNatsNode[],
  what: string,
  viewOf: (node: TestNatsNode) => Promise<string | undefined>,
): Promise<string> {
  const views = await Promise.all(nodes.map(async (n) => [n.name, await viewOf(n).catch((e: Error) => `(${e.message})`)] as const));
  const leader = views.find(([name, view]) => view === name);
  if (leader !== undefined) return leader[0];
  throw new Error(`no running server leads ${what}; views: ${views.map(([n, v]) => `${n}→${v ?? "none"}`).join(", ")}`);
}
