// `npm run bench:soak`: the daemon's memory under a long load. 64 connections for
// BENCH_SOAK_SECONDS (default 600): 32 on /requests (a node `x ** 2` function) and 32 on
// /messages (to a topic no function reads, so the log grows as fast as the daemon accepts).
// Every BENCH_SOAK_EVERY seconds (default 5) it samples the daemon's RSS from /proc; it prints
// the curve, the max, the slope over the second half (a leak shows there: the first half holds
// the warm-up of caches and JIT), and, once the load stops, each idle replica's RSS (the whole
// process tree of its sandbox): at the load's end and again BENCH_SOAK_IDLE_SECONDS later
// (default 5: idle, but before the default 10 s idle timeout stops it). Targets (issue 16): max
// <= 150 MiB, flat over the second half, each idle node replica <= 40 MiB. Last line: one JSON
// object.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { admin, processTree, requireWrk, startRiff, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const every = Number(process.env.BENCH_SOAK_EVERY ?? 5);
const idleSeconds = Number(process.env.BENCH_SOAK_IDLE_SECONDS ?? 5);
await requireWrk();

/**
 * Resident set of one process in MiB (0 once it is gone). `field` RssAnon: only its own memory,
 * without the pages of the node binary and libraries it shares with every other process (about
 * 34 MiB of a bare node's 39).
 */
function rssMiB(pid, field = "VmRSS") {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Proportional set size in MiB: its own pages plus its share of those it shares (the node
 * binary's pages count once across all the node processes that have them in memory).
 */
function pssMiB(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8").split("\n").find((l) => l.startsWith("Pss:"));
    return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return 0;
  }
}

/** Least-squares slope of `points` ([seconds, MiB]) in MiB per minute. */
function slopePerMinute(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return (sxy / sxx) * 60;
}

const riff = await startRiff();
const round1 = (v) => Number(v.toFixed(1));
try {
  const daemonPid = JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8")).pid;
  writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
  await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
  await riff.cli("topics", "create", "events");
  await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds: 2 }); // warm-up
  const start = performance.now();
  const curve = [[0, round1(rssMiB(daemonPid))]];
  const sampler = setInterval(() => {
    const t = Math.round((performance.now() - start) / 1000);
    const mib = round1(rssMiB(daemonPid));
    curve.push([t, mib]);
    console.log(`t=${String(t).padStart(4)} s  daemon rss ${mib.toFixed(1).padStart(6)} MiB`);
  }, every * 1000);
  const [requests, messages] = await Promise.all([
    wrk(`${riff.url}/requests/numbers`, { connections: 32, seconds }),
    wrk(`${riff.url}/messages/events`, { connections: 32, seconds }),
  ]);
  clearInterval(sampler);
  // The replicas once the load is over, and again once they have been idle for a while.
  const { functions } = await admin(riff, "functions");
  const replicas = functions.flatMap((f) => (f.replicas ?? []).filter((r) => r.pid !== undefined).map((r) => ({ fn: f.name, pid: r.pid })));
  const measure = () =>
    replicas.map(({ fn, pid }) => {
      const pids = processTree(pid);
      const each = pids.map((p) => rssMiB(p));
      const sum = (f) => round1(pids.map(f).reduce((a, b) => a + b, 0));
      return { function: fn, pid, processes: pids.length, rss_mib: sum((p) => rssMiB(p)), largest_mib: round1(Math.max(...each)), anon_mib: sum((p) => rssMiB(p, "RssAnon")), pss_mib: sum(pssMiB) };
    });
  const atEnd = measure();
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idle = measure();
  const half = curve.filter(([t]) => t >= seconds / 2);
  const secondHalf = half.map(([, y]) => y);
  const summary = {
    seconds,
    every,
    requests_rps: Math.round(requests.rps),
    messages_rps: Math.round(messages.rps),
    requests_p99_ms: requests.p99_us / 1000,
    errors: requests.errors + messages.errors,
    daemon_rss_start_mib: curve[0][1],
    daemon_rss_max_mib: Math.max(...curve.map(([, y]) => y)),
    daemon_rss_end_mib: curve.at(-1)[1],
    daemon_anon_end_mib: round1(rssMiB(daemonPid, "RssAnon")),
    second_half_slope_mib_per_min: round1(slopePerMinute(half)),
    second_half_min_mib: Math.min(...secondHalf),
    second_half_max_mib: Math.max(...secondHalf),
    replicas_at_end: atEnd,
    idle_seconds: idleSeconds,
    idle_replicas: idle,
    curve,
  };
  for (const r of atEnd) console.log(`replica of ${r.function} as the load ends (pid ${r.pid}, ${r.processes} processes): ${r.rss_mib} MiB, largest ${r.largest_mib} MiB, its own (RssAnon) ${r.anon_mib} MiB, PSS ${r.pss_mib} MiB`);
  for (const r of idle) console.log(`idle replica of ${r.function} after ${idleSeconds} s (pid ${r.pid}, ${r.processes} processes): ${r.rss_mib} MiB, largest ${r.largest_mib} MiB (target: <= 40), its own (RssAnon) ${r.anon_mib} MiB, PSS ${r.pss_mib} MiB`);
  console.log(`daemon rss: start ${summary.daemon_rss_start_mib}, max ${summary.daemon_rss_max_mib} (target: <= 150), end ${summary.daemon_rss_end_mib} MiB; second half ${summary.second_half_min_mib}..${summary.second_half_max_mib} MiB, slope ${summary.second_half_slope_mib_per_min} MiB/min`);
  console.log(JSON.stringify(summary));
} finally {
  await riff.stop();
}
