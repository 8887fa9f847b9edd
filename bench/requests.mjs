// `npm run bench`: the /requests path with a node `x ** 2` function, against a plain Node HTTP
// server doing the same in the same run; then riff with its Prometheus metrics on (the default)
// against riff started with --no-metrics, in alternating rounds so that a busy machine weighs
// on both alike. Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { printTable, requireWrk, startRiff, startServer, stats, wrk } from "./lib.mjs";

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
      metrics[which].push((await wrk(`${daemons[which].url}/requests/numbers`, { connections: 16, seconds })).rps);
    }
    console.log(`round ${round + 1}/${rounds}: metrics on ${metrics.on.at(-1).toFixed(0)}, off ${metrics.off.at(-1).toFixed(0)} req/s`);
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
  errors: results.reduce((n, [, x]) => n + x.errors, 0),
};
console.log(`ratio riff/plain: c=1 ${summary.ratio_1}, c=16 ${summary.ratio_16} (target at c=16: >= 0.35)`);
console.log(`/requests c=16, req/s over ${rounds} rounds: metrics on min ${on.min} median ${on.median} max ${on.max}; off min ${off.min} median ${off.median} max ${off.max}; on/off per round: median ${summary.metrics_ratio_16.median} (target: >= 0.95)`);
console.log(JSON.stringify(summary));
