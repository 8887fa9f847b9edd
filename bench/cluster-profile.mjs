// `node bench/cluster-profile.mjs [messages|requests]`: the cluster case of bench/cluster.mjs
// alone (two riff nodes on a private 3-server NATS cluster, topic R3, `x ** 2` with 4
// partitions), loaded by wrk for PROFILE_SECONDS (default 10), to see where the time goes.
// Prints the CPU each process used during the load (riff nodes and nats-servers; not the
// function replicas, nor wrk), per message. With PROFILE_DIR=dir the riff nodes are profiled from start to
// stop (bench/cpu-prof-preload.cjs, written when they stop); summarise them with
// `for f in dir/*.cpuprofile; do node bench/cpuprofile-top.mjs $f; done`. Then, from the last
// invocation records of each node and their traces, where a message's time went (stages()).
// Extra `riff system start` flags for
// both nodes: PROFILE_NODE_ARGS (space-separated, e.g. "--records-max 0 --no-metrics").
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { startTestNatsCluster } from "../packages/broker-nats/dist/nats-cluster.test-util.js";
import { admin, drained, RIFF, requireWrk, until, wrk } from "./lib.mjs";

const path = process.argv[2] === "requests" ? "requests" : "messages";
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 10);
const PROFILE_DIR = process.env.PROFILE_DIR;
// The preload writes there when a node stops, and finds no folder made for it.
if (PROFILE_DIR !== undefined) mkdirSync(PROFILE_DIR, { recursive: true });
const EXTRA = (process.env.PROFILE_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
/** Variations, to tell what costs: riff nodes (1|2), NATS servers (1|3), topic replicas (1|3). */
const NODES = Number(process.env.PROFILE_NODES ?? 2);
const SERVERS = Number(process.env.PROFILE_SERVERS ?? 3);
const REPLICAS = process.env.PROFILE_REPLICAS;
/** `broker`: one node started with `--broker URL` (no cluster), as bench:cluster's R1 case. */
const MODE = process.env.PROFILE_MODE === "broker" ? "broker" : "cluster";
const run = promisify(execFile);
/** Requests traced, evenly over the load, to see each stage (stages()). */
const STAGE_TRACES = Number(process.env.PROFILE_TRACES ?? 1000);
const log = (...a) => console.error("[cluster-profile]", ...a);

await requireWrk();
const nats = await startTestNatsCluster({ size: SERVERS });
const homes = [];
const stops = [];
/** Stops the nodes (riff system stop; detached, they would outlive this script), then NATS. Once. */
let cleaned;
const cleanup = () =>
  (cleaned ??= (async () => {
    for (const s of stops) await s();
    await nats.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  })());
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    log(`${signal}: stopping the nodes and the NATS servers`);
    void cleanup().finally(() => process.exit(130));
  });
}
try {
  const name = `prof${randomBytes(3).toString("hex")}`;
  const nodes = [];
  for (const n of ["n1", "n2"].slice(0, NODES)) {
    const home = mkdtempSync(join(tmpdir(), `riff-prof-${n}-`));
    homes.push(home);
    const env = { ...process.env, RIFF_HOME: home, ...(PROFILE_DIR ? { NODE_OPTIONS: `--require ${join(import.meta.dirname, "cpu-prof-preload.cjs")}`, RIFF_CPU_PROF_DIR: PROFILE_DIR, RIFF_CPU_PROF_ARG: "--home" } : {}) };
    const cli = async (...a) => (await run(process.execPath, [RIFF, ...a], { env: { ...process.env, RIFF_HOME: home }, cwd: home, maxBuffer: 64 << 20 })).stdout;
    await run(process.execPath, [RIFF, "system", "start", "--port", "0", ...(MODE === "broker" ? ["--broker", nats.url] : ["--cluster", nats.url, "--cluster-name", name, "--node-name", n, ...(REPLICAS ? ["--replicas", REPLICAS] : [])]), ...EXTRA], { env, cwd: home });
    const info = JSON.parse(readFileSync(join(home, "daemon.json"), "utf8"));
    stops.push(() => cli("system", "stop").catch(() => undefined));
    nodes.push({ name: n, home, cli, url: info.url, pid: info.pid });
  }
  const dir = mkdtempSync(join(tmpdir(), "riff-prof-square-"));
  writeFileSync(join(dir, "square.js"), "module.exports = (x) => x ** 2\n");
  await nodes[0].cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", dir, "--partitions", "4", "--min-replicas", String(NODES));
  if (MODE === "cluster") await until(async () => {
    const list = JSON.parse(await nodes[0].cli("nodes", "-o", "json")).nodes;
    return list.every((n) => n.partitions.some((p) => p.startsWith("square: ")));
  }, { everyMs: 200, timeoutMs: 60_000 });
  const drain = () => drained({ url: nodes[0].url, home: nodes[0].home });
  const load = (seconds) => Promise.all(nodes.map((n) => wrk(`${n.url}/${path}/numbers`, { connections: 16 / NODES, seconds })));
  log("warm-up");
  await load(2);
  if (path === "messages") await drain();

  const before = cpuTable(nodes, nats);
  const natsBefore = await natsCounts(nats);
  const began = Date.now();
  const parts = await load(SECONDS);
  const loadMs = Date.now() - began;
  const during = cpuTable(nodes, nats);
  if (path === "messages") await drain();
  const drainMs = Date.now() - began - loadMs;
  const after = cpuTable(nodes, nats);
  const natsAfter = await natsCounts(nats);
  // The same counts with no load, per second: the cluster's own chatter (leases, commits, heartbeats).
  await new Promise((r) => setTimeout(r, 5000));
  const natsIdle = await natsCounts(nats);
  const idleTicks = cpuTable(nodes, nats);
  const requests = parts.reduce((s, p) => s + p.requests, 0);
  const rps = parts.reduce((s, p) => s + p.rps, 0);
  await eventLoopLag(nodes);
  log(`${path}: ${rps.toFixed(0)} req/s (${parts.map((p) => p.rps.toFixed(0)).join(" + ")}), p99 ${Math.max(...parts.map((p) => p.p99_us)) / 1000} ms, ${requests} requests; drain ${drainMs} ms`);
  console.log("process                 cpu% during load   cpu ms/1000 msgs (load+drain)");
  for (const [key, b] of before) {
    const d = during.get(key) ?? b;
    const a = after.get(key) ?? d;
    console.log(`${key.padEnd(24)}${(((d.ticks - b.ticks) * 10) / loadMs * 100).toFixed(0).padStart(8)}%   ${(((a.ticks - b.ticks) * 10 * 1000) / requests).toFixed(0).padStart(12)}`);
  }
  for (const [key, b] of after) console.log(`idle: ${key.padEnd(24)}${((((idleTicks.get(key)?.ticks ?? b.ticks) - b.ticks) * 10) / 5000 * 100).toFixed(0).padStart(5)}% cpu`);
  console.log("NATS traffic per message (load+drain) | per second idle: in msgs / out msgs / in bytes / out bytes");
  for (const [key, a] of natsAfter) {
    const b = natsBefore.get(key) ?? { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
    const i = natsIdle.get(key) ?? a;
    const per = (f) => ((a[f] - b[f]) / requests).toFixed(2).padStart(8);
    const idle = (f) => ((i[f] - a[f]) / 5).toFixed(0).padStart(8);
    if (a.in_msgs - b.in_msgs + a.out_msgs - b.out_msgs > requests / 100) console.log(`${key.padEnd(44)}${per("in_msgs")}${per("out_msgs")}${per("in_bytes")}${per("out_bytes")} |${idle("in_msgs")}${idle("out_msgs")}${idle("in_bytes")}${idle("out_bytes")}`);
  }
  await stages(nodes, began);
} finally {
  await cleanup();
}

/**
 * Each server's totals (varz, routes summed) and each client connection's counts (connz, by
 * server and connection name and subscription-less id): what riff makes NATS carry.
 */
async function natsCounts(nats) {
  const out = new Map();
  for (const s of nats.servers) {
    const varz = await (await fetch(`${s.monitorUrl}/varz`)).json();
    out.set(`${s.name} total`, varz);
    const routez = await (await fetch(`${s.monitorUrl}/routez`)).json();
    const routes = { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
    for (const r of routez.routes ?? []) for (const f of Object.keys(routes)) routes[f] += r[f];
    out.set(`${s.name} routes`, routes);
    const connz = await (await fetch(`${s.monitorUrl}/connz?limit=1024`)).json();
    for (const c of connz.connections ?? []) out.set(`${s.name} client ${c.name ?? c.cid}#${c.cid}`, c);
  }
  return out;
}

/** CPU ticks (10 ms) so far of the riff nodes and the nats-servers. */
function cpuTable(nodes, nats) {
  const table = new Map();
  const ticks = (pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(f[11]) + Number(f[12]);
    } catch {
      return 0;
    }
  };
  for (const n of nodes) {
    table.set(`riff ${n.name}`, { ticks: ticks(n.pid) });
  }
  for (const s of nats.servers) table.set(`nats-server ${s.name}`, { ticks: ticks(s.pid) });
  return table;
}

/**
 * Each node's event-loop lag over its life (prom-client's default metrics): a request queued
 * while a node's loop is held starts its span only after, so a stall shows in wrk's tail but
 * not in the traces of stages().
 */
async function eventLoopLag(nodes) {
  for (const n of nodes) {
    const text = await (await fetch(`${n.url}/metrics`)).text().catch(() => "");
    const read = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? NaN);
    const ms = (name) => (read(name) * 1000).toFixed(1);
    log(`${n.name} event-loop lag: p50 ${ms("nodejs_eventloop_lag_p50_seconds")}, p99 ${ms("nodejs_eventloop_lag_p99_seconds")}, max ${ms("nodejs_eventloop_lag_max_seconds")} ms`);
  }
}

/**
 * Where a message's time went, from the invocation records of every node (those of the load,
 * paged back from the newest) and the traces of up to STAGE_TRACES of them: the publish (the
 * request's start to the stream leader's store time, the message's timestamp), the wait (store
 * time to the run's start on whichever node: the feed and the dispatch queue), the run (the
 * replica's round trip), and for `/requests` the way back (the run's end to the request's end:
 * the reply, across nodes when it ran on the other one, and the HTTP answer), for `/messages`
 * the ack (store time to the 202).
 * All on one machine, so the nodes' and the servers' clocks are one clock. Then the slowest
 * requests, with when they started in the load and which stage held them.
 */
async function stages(nodes, loadBegan) {
  const records = new Map();
  for (const n of nodes) {
    let before = "";
    for (let page = 0; page < 20; page++) {
      const { invocations } = await admin({ url: n.url, home: n.home }, `invocations?function=square&limit=1000${before}`);
      const mine = invocations.filter((r) => r.startedAt >= loadBegan);
      for (const r of mine) records.set(r.id, r);
      if (mine.length < invocations.length || invocations.length < 1000) break;
      before = `&before=${Math.floor(Math.min(...invocations.map((r) => r.startedAt)))}`;
    }
  }
  const all = [...records.values()].sort((a, b) => a.startedAt - b.startedAt);
  const pct = (xs) => {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
    return `p50 ${at(0.5).toFixed(2)}  p90 ${at(0.9).toFixed(2)}  p99 ${at(0.99).toFixed(2)}  max ${(s[s.length - 1] ?? NaN).toFixed(2)} ms`;
  };
  console.log(`where a message's time went (${all.length} invocation records of the load):`);
  console.log(`  wait (stored -> run starts)   ${pct(all.map((r) => r.queueWaitMs))}`);
  console.log(`  run (replica round trip)      ${pct(all.map((r) => r.durationMs))}`);
  const rows = [];
  // Evenly over the load, so that a stall anywhere in it shows.
  const step = Math.max(1, Math.floor(all.length / STAGE_TRACES));
  for (let i = 0; i < all.length; i += step) {
    const r = all[i];
    // Asked of every node: a node may keep only the spans it ran.
    const spans = [];
    for (const n of nodes) spans.push(...((await admin({ url: n.url, home: n.home }, `traces/${r.traceId}`).catch(() => undefined))?.spans ?? []));
    const request = spans.find((s) => s.kind === "request");
    if (request === undefined) continue;
    const stored = r.startedAt - r.queueWaitMs;
    rows.push({
      at: request.startedAt - loadBegan,
      publish: stored - request.startedAt,
      wait: r.queueWaitMs,
      run: r.durationMs,
      back: request.startedAt + request.durationMs - (r.startedAt + r.durationMs),
      // /messages answers once the message is stored: from the store to the 202.
      acked: request.startedAt + request.durationMs - stored,
      total: request.durationMs,
      gateway: request.node,
      ran: `${r.node} p${r.partition}`,
    });
  }
  const requests = path === "requests";
  console.log(`  publish (request -> stored)   ${pct(rows.map((r) => r.publish))}`);
  if (requests) console.log(`  back (run ends -> answered)   ${pct(rows.map((r) => r.back))}, ${rows.filter((r) => r.gateway !== r.ran.split(" ")[0]).length} of ${rows.length} ran on the other node`);
  else console.log(`  acked (stored -> 202 sent)    ${pct(rows.map((r) => r.acked))}`);
  console.log(`  request, in all               ${pct(rows.map((r) => r.total))}`);
  console.log("  the slowest traced requests (ms from the load's start; ms in each stage):");
  for (const r of rows.sort((a, b) => b.total - a.total).slice(0, 12)) {
    const f = (x) => x.toFixed(1).padStart(7);
    const after = requests ? `wait ${f(r.wait)}  run ${f(r.run)}  back ${f(r.back)}` : `acked ${f(r.acked)}`;
    console.log(`    at ${f(r.at)}  total ${f(r.total)}  publish ${f(r.publish)}  ${after}  via ${r.gateway}, ran on ${r.ran}`);
  }
}
