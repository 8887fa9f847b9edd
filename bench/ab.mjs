// Before and after a change, in one run: `node bench/ab.mjs BASE` starts riff from this checkout
// and from BASE (another checkout of riff, built), each with a node `x ** 2` function, and the
// plain Node server; every round runs /requests at 16 connections (req/s, p99, the daemon's
// and the replicas' CPU per call) and at 1 connection (p50) on each, in alternating order, so that a busy
// machine weighs on both alike. Env: BENCH_ROUNDS (default 5), BENCH_SECONDS (default 5);
// AB_BEFORE_ARGS, AB_AFTER_ARGS: `riff system start` flags of each side, so that one checkout
// (BASE `.`) compares with a feature on and off: AB_BEFORE_ARGS="--sandbox none" node bench/ab.mjs .
// (what the sandbox costs). AB_BEFORE_NODE_OPTIONS, AB_AFTER_NODE_OPTIONS: each daemon's
// NODE_OPTIONS (V8 flags: AB_AFTER_NODE_OPTIONS=--max-semi-space-size=8 node bench/ab.mjs .).
// AB_PATH=messages: /messages at 16 connections on the function's topic instead (no c=1 run);
// each side's CPU per message is read once it has run the whole backlog.
// Last line: one JSON object, medians with min and max per round.
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { admin, cpuBetween, daemonCpuUs, drained, replicaCpuUs, requireWrk, startRiff, startServer, stats, wrk } from "./lib.mjs";

const base = process.argv[2];
if (base === undefined) {
  console.error("usage: node bench/ab.mjs BASE_CHECKOUT");
  process.exit(2);
}
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const messages = process.env.AB_PATH === "messages";
await requireWrk();

const plain = await startServer(process.execPath, [join(import.meta.dirname, "plain-server.mjs")]);
const flags = (name) => (process.env[name] ?? "").split(" ").filter(Boolean);
const nodeOptions = (name) => (process.env[name] === undefined ? {} : { NODE_OPTIONS: process.env[name] });
const daemons = {
  before: await startRiff(flags("AB_BEFORE_ARGS"), resolve(base, "packages/cli/bin/riff.js"), nodeOptions("AB_BEFORE_NODE_OPTIONS")),
  after: await startRiff(flags("AB_AFTER_ARGS"), undefined, nodeOptions("AB_AFTER_NODE_OPTIONS")),
};
const runs = { before: [], after: [], plain: [] };
try {
  for (const riff of Object.values(daemons)) {
    writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
    await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
    await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds: 2 }); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["before", "after", "plain"] : ["plain", "after", "before"];
    for (const which of order) {
      if (which === "plain") {
        runs.plain.push({ c16: await wrk(`http://127.0.0.1:${plain.port}/`, { connections: 16, seconds }) });
        continue;
      }
      const riff = daemons[which];
      // A replica up before the readings: the other side's turn may have outlasted the idle timeout.
      await fetch(`${riff.url}/requests/numbers`, { method: "POST", body: "1" });
      const cpu0 = await daemonCpuUs(riff);
      const replicas0 = await replicaCpuUs(riff);
      const c16 = await wrk(`${riff.url}/${messages ? "messages" : "requests"}/numbers`, { connections: 16, seconds });
      if (messages) await drained(riff, "numbers");
      const cpuUs = ((await daemonCpuUs(riff)) - cpu0) / c16.requests;
      // The replicas up through the whole load (one started during it counts in neither reading).
      const replicaUs = cpuBetween(replicas0, await replicaCpuUs(riff)) / c16.requests;
      const c1 = messages ? undefined : await wrk(`${riff.url}/requests/numbers`, { connections: 1, seconds });
      // Replicas up after the load: the autoscaler may add some, and on 2 cores each one more
      // process weighs on throughput; printed, so that a round's outlier can be explained.
      const { functions } = await admin(riff, "functions");
      runs[which].push({ c16, c1, cpuUs, replicaUs, replicas: functions[0]?.replicas?.length ?? 0 });
    }
    const r = (w) => runs[w].at(-1).c16.rps.toFixed(0);
    const n = (w) => runs[w].at(-1).replicas;
    console.log(`round ${round + 1}/${rounds}: before ${r("before")} (${n("before")} replicas), after ${r("after")} (${n("after")} replicas), plain ${r("plain")} req/s at c=16`);
  }
} finally {
  plain.stop();
  await Promise.all(Object.values(daemons).map((d) => d.stop()));
}

const spread = (values, digits = 3) => {
  const s = stats(values);
  const f = (v) => Number(v.toFixed(digits));
  return { min: f(s.min), median: f(s.p50), max: f(s.max) };
};
const of = (w) => ({
  rps_16: spread(runs[w].map((x) => x.c16.rps), 0),
  ratio_16: spread(runs[w].map((x, i) => x.c16.rps / runs.plain[i].c16.rps)),
  p99_ms_16: spread(runs[w].map((x) => x.c16.p99_us / 1000)),
  ...(messages ? {} : { p50_ms_1: spread(runs[w].map((x) => x.c1.p50_us / 1000)) }),
  cpu_us_per_req: spread(runs[w].map((x) => x.cpuUs), 1),
  replica_cpu_us_per_req: spread(runs[w].map((x) => x.replicaUs), 1),
});
const summary = {
  path: messages ? "messages" : "requests",
  rounds,
  seconds,
  before: of("before"),
  after: of("after"),
  plain_rps_16: spread(runs.plain.map((x) => x.c16.rps), 0),
  /** Per round, after / before. */
  after_over_before_rps_16: spread(runs.after.map((x, i) => x.c16.rps / runs.before[i].c16.rps)),
  after_over_before_cpu: spread(runs.after.map((x, i) => x.cpuUs / runs.before[i].cpuUs)),
  after_over_before_replica_cpu: spread(runs.after.map((x, i) => x.replicaUs / runs.before[i].replicaUs)),
};
console.log(JSON.stringify(summary));
