// `npm run bench`: the /requests path with a node `x ** 2` function, against a plain Node HTTP
// server doing the same in the same run; then riff with its Prometheus metrics on (the default)
// against riff started with --no-metrics, in alternating rounds so that a busy machine weighs
// on both alike. Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonCpuUs, printTable, requireWrk, startRiff, startServer, stats, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
/** Rounds of metrics on, then off (or off, then on), at c=16. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The flag that turns riff's metrics off. */
const METRICS_OFF = ["--no-metrics"];
await requireWrk();

const results = [];
const plain = await startServer(process.execPath, [join(import.meta.dirname, "plain-server.mjs")]);
try {
  const url = `http://127.0.0.1:${plain.port}/`;
  await wrk(url, { connections: 16, seconds: 2 }); // warm-up
  results.push(["plain node http, c=1", await wrk(url, { connections: 1, seconds })]);
  results.push(["plain node http, c=16", await wrk(url, { connections: 16, seconds })]);
} finally {
  plain.stop();
}

const daemons = { on: await startRiff(), off: await startRiff(METRICS_OFF) };
const metrics = { on: [], off: [] };
/** Daemon CPU µs per request, per round. */
const cpu = { on: [], off: [] };
try {
  for (const riff of Object.values(daemons)) {
    writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
    await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
    await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds: 2 }); // warm-up
  }
  const url = `${daemons.on.url}/requests/numbers`;
  results.push(["riff /requests, c=1", await wrk(url, { connections: 1, seconds })]);
  results.push(["riff /requests, c=16", await wrk(url, { connections: 16, seconds })]);
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always runs on the warmer machine.
    for (const which of round % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
      const before = await daemonCpuUs(daemons[which]);
      const r = await wrk(`${daemons[which].url}/requests/numbers`, { connections: 16, seconds });
      metrics[which].push(r.rps);
      cpu[which].push(((await daemonCpuUs(daemons[which])) - before) / (r.rps * seconds));
    }
    const f = (which) => `${metrics[which].at(-1).toFixed(0)} req/s ${cpu[which].at(-1).toFixed(1)} µs cpu/req`;
    console.log(`round ${round + 1}/${rounds}: metrics on ${f("on")}, off ${f("off")}`);
  }
} finally {
  await Promise.all(Object.values(daemons).map((d) => d.stop()));
}

printTable(results);
const r = Object.fromEntries(results);
const spread = (values, digits = 0) => {
  const s = stats(values);
  return { min: Number(s.min.toFixed(digits)), median: Number(s.p50.toFixed(digits)), max: Number(s.max.toFixed(digits)) };
};
const on = spread(metrics.on);
const off = spread(metrics.off);
const summary = {
  riff_rps_1: Math.round(r["riff /requests, c=1"].rps),
  plain_rps_1: Math.round(r["plain node http, c=1"].rps),
  riff_rps_16: Math.round(r["riff /requests, c=16"].rps),
  plain_rps_16: Math.round(r["plain node http, c=16"].rps),
  ratio_1: Number((r["riff /requests, c=1"].rps / r["plain node http, c=1"].rps).toFixed(3)),
  ratio_16: Number((r["riff /requests, c=16"].rps / r["plain node http, c=16"].rps).toFixed(3)),
  riff_p50_ms_1: r["riff /requests, c=1"].p50_us / 1000,
  plain_p50_ms_1: r["plain node http, c=1"].p50_us / 1000,
  riff_p99_ms_16: r["riff /requests, c=16"].p99_us / 1000,
  plain_p99_ms_16: r["plain node http, c=16"].p99_us / 1000,
  metrics_on_rps_16: on,
  metrics_off_rps_16: off,
  /** Per round, on/off of that round's pair. */
  metrics_ratio_16: spread(metrics.on.map((v, i) => v / metrics.off[i]), 3),
  metrics_on_cpu_us_per_req: spread(cpu.on, 1),
  metrics_off_cpu_us_per_req: spread(cpu.off, 1),
  /** Per round, daemon CPU per request on/off: what metrics add to each request's work. */
  metrics_cpu_ratio: spread(cpu.on.map((v, i) => v / cpu.off[i]), 3),
  errors: results.reduce((n, [, x]) => n + x.errors, 0),
};
console.log(`ratio riff/plain: c=1 ${summary.ratio_1}, c=16 ${summary.ratio_16} (target at c=16: >= 0.35)`);
console.log(`/requests c=16, req/s over ${rounds} rounds: metrics on min ${on.min} median ${on.median} max ${on.max}; off min ${off.min} median ${off.median} max ${off.max}; on/off per round: median ${summary.metrics_ratio_16.median} (target: >= 0.95)`);
console.log(`daemon cpu per request: metrics on median ${summary.metrics_on_cpu_us_per_req.median} µs, off ${summary.metrics_off_cpu_us_per_req.median} µs; on/off per round: min ${summary.metrics_cpu_ratio.min} median ${summary.metrics_cpu_ratio.median} max ${summary.metrics_cpu_ratio.max}`);
console.log(JSON.stringify(summary));
