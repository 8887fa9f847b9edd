// `npm run bench`: the /requests path with a node `x ** 2` function, against a plain Node HTTP
// server doing the same in the same run; then riff with its telemetry on (the default: Prometheus
// metrics, invocation records and trace spans) against riff started with it off (--no-metrics
// --records-max 0), on /requests and /messages, in alternating rounds so that a busy machine
// weighs on both alike. Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonCpuUs, printTable, requireWrk, startRiff, startServer, stats, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
/** Rounds of telemetry on, then off (or off, then on), at c=16. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The flags that turn riff's telemetry off: metrics, and invocation records with their spans. */
const TELEMETRY_OFF = ["--no-metrics", "--records-max", "0"];
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

const daemons = { on: await startRiff(), off: await startRiff(TELEMETRY_OFF) };
const metrics = { on: [], off: [] };
const messages = { on: [], off: [] };
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
      messages[which].push((await wrk(`${daemons[which].url}/messages/numbers`, { connections: 16, seconds })).rps);
    }
    const f = (which) => `/requests ${metrics[which].at(-1).toFixed(0)} req/s ${cpu[which].at(-1).toFixed(1)} µs cpu/req, /messages ${messages[which].at(-1).toFixed(0)} req/s`;
    console.log(`round ${round + 1}/${rounds}: telemetry on ${f("on")}; off ${f("off")}`);
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
  telemetry_on_rps_16: on,
  telemetry_off_rps_16: off,
  /** Per round, on/off of that round's pair. */
  telemetry_ratio_16: spread(metrics.on.map((v, i) => v / metrics.off[i]), 3),
  telemetry_on_cpu_us_per_req: spread(cpu.on, 1),
  telemetry_off_cpu_us_per_req: spread(cpu.off, 1),
  /** Per round, daemon CPU per request on/off: what the telemetry adds to each request's work. */
  telemetry_cpu_ratio: spread(cpu.on.map((v, i) => v / cpu.off[i]), 3),
  telemetry_on_messages_rps_16: spread(messages.on),
  telemetry_off_messages_rps_16: spread(messages.off),
  telemetry_messages_ratio_16: spread(messages.on.map((v, i) => v / messages.off[i]), 3),
  errors: results.reduce((n, [, x]) => n + x.errors, 0),
};
console.log(`ratio riff/plain: c=1 ${summary.ratio_1}, c=16 ${summary.ratio_16} (target at c=16: >= 0.35)`);
console.log(`/requests c=16, req/s over ${rounds} rounds: telemetry on min ${on.min} median ${on.median} max ${on.max}; off min ${off.min} median ${off.median} max ${off.max}; on/off per round: min ${summary.telemetry_ratio_16.min} median ${summary.telemetry_ratio_16.median} max ${summary.telemetry_ratio_16.max} (target: >= 0.95)`);
const m = summary.telemetry_messages_ratio_16;
console.log(`/messages c=16, req/s: telemetry on median ${summary.telemetry_on_messages_rps_16.median}, off ${summary.telemetry_off_messages_rps_16.median}; on/off per round: min ${m.min} median ${m.median} max ${m.max} (target: >= 0.95)`);
console.log(`daemon cpu per /requests call: telemetry on median ${summary.telemetry_on_cpu_us_per_req.median} µs, off ${summary.telemetry_off_cpu_us_per_req.median} µs; on/off per round: min ${summary.telemetry_cpu_ratio.min} median ${summary.telemetry_cpu_ratio.median} max ${summary.telemetry_cpu_ratio.max}`);
console.log(JSON.stringify(summary));
