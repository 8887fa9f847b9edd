// `npm run bench`: riff with a node `x ** 2` function, on /requests at 1 and 16 connections
// against a plain Node HTTP server doing the same, and on /messages at 16 and 64 connections
// against the plain server answering 202 (it stores nothing: the ratio is what durability and
// the gateway cost). Two daemons run every riff case: one with its telemetry on (the default:
// Prometheus metrics, invocation records and trace spans), one with it off (--no-metrics
// --records-max 0). After each /messages case the function's backlog is consumed, untimed,
// before the next case runs. Every case runs once per round, and rounds alternate their order,
// so that a busy machine weighs on riff and its baselines alike; the ratios are taken per round
// and reported as min, median and max. Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { daemonCpuUs, drained, ms, requireWrk, startRiff, startServer, stats, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
/** Rounds of every case; at least 5 for a median worth quoting. */
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The flags that turn riff's telemetry off: metrics, and invocation records with their spans. */
const TELEMETRY_OFF = ["--no-metrics", "--records-max", "0"];
await requireWrk();

const plain = await startServer(process.execPath, [join(import.meta.dirname, "plain-server.mjs")]);
const daemons = { on: await startRiff(), off: await startRiff(TELEMETRY_OFF) };
/** Per case, one wrk result per round. */
const runs = {};
/** Daemon CPU µs per /requests call at c=16, per round. */
const cpu = { on: [], off: [] };
const record = (name, result) => (runs[name] ??= []).push(result);

const cases = {
  plain: async () => {
    const url = `http://127.0.0.1:${plain.port}/`;
    record("plain c=1", await wrk(url, { connections: 1, seconds }));
    record("plain c=16", await wrk(url, { connections: 16, seconds }));
    record("plain 202 c=16", await wrk(`${url}messages/numbers`, { connections: 16, seconds }));
    record("plain 202 c=64", await wrk(`${url}messages/numbers`, { connections: 64, seconds }));
  },
  on: () => riffCases("on"),
  off: () => riffCases("off"),
};

/**
 * Every riff case, telemetry on or off. Both daemons run the same ones, so that each round
 * compares telemetry and not two histories (until this, only the telemetry-on daemon ran the
 * c=1 and c=64 cases, and came to each round with a topic three times as long).
 */
async function riffCases(which) {
  const riff = daemons[which];
  record(`riff /requests c=1 telemetry ${which}`, await wrk(`${riff.url}/requests/numbers`, { connections: 1, seconds }));
  const before = await daemonCpuUs(riff);
  const r = await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds });
  cpu[which].push(((await daemonCpuUs(riff)) - before) / (r.rps * seconds));
  record(`riff /requests c=16 telemetry ${which}`, r);
  record(`riff /messages c=16 telemetry ${which}`, await wrk(`${riff.url}/messages/numbers`, { connections: 16, seconds }));
  // The function reads `numbers`: what /messages left there is consumed, untimed, before the
  // next case, which would otherwise run beside that work.
  await drained(riff);
  record(`riff /messages c=64 telemetry ${which}`, await wrk(`${riff.url}/messages/numbers`, { connections: 64, seconds }));
  await drained(riff);
}

try {
  for (const riff of Object.values(daemons)) {
    writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
    await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
    await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds: 2 }); // warm-up
  }
  await wrk(`http://127.0.0.1:${plain.port}/`, { connections: 16, seconds: 2 }); // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["plain", "on", "off"] : ["off", "on", "plain"];
    for (const which of order) await cases[which]();
    const last = (name) => runs[name].at(-1).rps.toFixed(0);
    console.log(
      `round ${round + 1}/${rounds}: plain c=16 ${last("plain c=16")}, riff /requests c=16 ${last("riff /requests c=16 telemetry on")} (off ${last("riff /requests c=16 telemetry off")}), /messages ${last("riff /messages c=16 telemetry on")} (off ${last("riff /messages c=16 telemetry off")}; plain 202 ${last("plain 202 c=16")}), /messages c=64 ${last("riff /messages c=64 telemetry on")} (off ${last("riff /messages c=64 telemetry off")}; plain 202 ${last("plain 202 c=64")}) req/s`,
    );
  }
} finally {
  plain.stop();
  await Promise.all(Object.values(daemons).map((d) => d.stop()));
}

/** min, median and max of `values`, rounded to `digits`. */
const spread = (values, digits = 0) => {
  const s = stats(values);
  return { min: Number(s.min.toFixed(digits)), median: Number(s.p50.toFixed(digits)), max: Number(s.max.toFixed(digits)) };
};
/** Per round, a / b. */
const ratio = (a, b, field = "rps") => spread(runs[a].map((r, i) => r[field] / runs[b][i][field]), 3);
const rps = (name) => spread(runs[name].map((r) => r.rps));
const latency = (name, field) => spread(runs[name].map((r) => r[field] / 1000), 3);

console.log("case                                   req/s min / median / max        p50 ms (median)  p99 ms (median)");
for (const name of Object.keys(runs)) {
  const r = rps(name);
  const p50 = stats(runs[name].map((x) => x.p50_us)).p50;
  const p99 = stats(runs[name].map((x) => x.p99_us)).p50;
  console.log(`${name.padEnd(38)} ${`${r.min} / ${r.median} / ${r.max}`.padEnd(28)} ${ms(p50).padStart(8)}  ${ms(p99).padStart(14)}`);
}
const summary = {
  rounds,
  seconds,
  ratio_1: ratio("riff /requests c=1 telemetry on", "plain c=1"),
  ratio_16: ratio("riff /requests c=16 telemetry on", "plain c=16"),
  riff_rps_1: rps("riff /requests c=1 telemetry on"),
  plain_rps_1: rps("plain c=1"),
  riff_rps_16: rps("riff /requests c=16 telemetry on"),
  plain_rps_16: rps("plain c=16"),
  riff_p50_ms_1: latency("riff /requests c=1 telemetry on", "p50_us"),
  plain_p50_ms_1: latency("plain c=1", "p50_us"),
  riff_p99_ms_16: latency("riff /requests c=16 telemetry on", "p99_us"),
  plain_p99_ms_16: latency("plain c=16", "p99_us"),
  telemetry_off_rps_16: rps("riff /requests c=16 telemetry off"),
  /** Per round, telemetry on/off of that round's pair. */
  telemetry_ratio_16: ratio("riff /requests c=16 telemetry on", "riff /requests c=16 telemetry off"),
  telemetry_on_cpu_us_per_req: spread(cpu.on, 1),
  telemetry_off_cpu_us_per_req: spread(cpu.off, 1),
  /** Per round, daemon CPU per request on/off: what the telemetry adds to each request's work. */
  telemetry_cpu_ratio: spread(cpu.on.map((v, i) => v / cpu.off[i]), 3),
  telemetry_on_messages_rps_16: rps("riff /messages c=16 telemetry on"),
  telemetry_off_messages_rps_16: rps("riff /messages c=16 telemetry off"),
  telemetry_messages_ratio_16: ratio("riff /messages c=16 telemetry on", "riff /messages c=16 telemetry off"),
  telemetry_messages_ratio_64: ratio("riff /messages c=64 telemetry on", "riff /messages c=64 telemetry off"),
  /** Per round, p50 at c=1 off/on: below 1 when telemetry makes a lone call slower. */
  telemetry_p50_ratio_1: ratio("riff /requests c=1 telemetry off", "riff /requests c=1 telemetry on", "p50_us"),
  /** /messages against the plain server answering 202, per round (target: >= 0.7). */
  messages_ratio_16: ratio("riff /messages c=16 telemetry on", "plain 202 c=16"),
  messages_ratio_64: ratio("riff /messages c=64 telemetry on", "plain 202 c=64"),
  messages_rps_64: rps("riff /messages c=64 telemetry on"),
  plain_202_rps_16: rps("plain 202 c=16"),
  plain_202_rps_64: rps("plain 202 c=64"),
  messages_p99_ms_64: latency("riff /messages c=64 telemetry on", "p99_us"),
  errors: Object.values(runs).flat().reduce((n, x) => n + x.errors, 0),
};
const line = (label, s) => `${label}: min ${s.min} median ${s.median} max ${s.max}`;
console.log(line("riff/plain /requests c=1", summary.ratio_1));
console.log(`${line("riff/plain /requests c=16", summary.ratio_16)} (target: >= 0.6)`);
console.log(`${line("riff /requests p50 ms c=1", summary.riff_p50_ms_1)} (target: <= 0.15)`);
console.log(`${line("riff /requests p99 ms c=16", summary.riff_p99_ms_16)} (target: <= 3)`);
console.log(`${line("riff/plain 202 /messages c=16", summary.messages_ratio_16)} (target: >= 0.7)`);
console.log(`${line("riff/plain 202 /messages c=64", summary.messages_ratio_64)} (target: >= 0.7)`);
console.log(`${line("telemetry on/off /requests c=16", summary.telemetry_ratio_16)} (target: >= 0.95)`);
console.log(`${line("telemetry on/off /messages c=16", summary.telemetry_messages_ratio_16)} (target: >= 0.95)`);
console.log(`${line("telemetry on/off /messages c=64", summary.telemetry_messages_ratio_64)} (target: >= 0.95)`);
console.log(`${line("telemetry off/on p50 /requests c=1", summary.telemetry_p50_ratio_1)} (target: >= 0.95)`);
console.log(`${line("telemetry on/off daemon cpu per /requests call", summary.telemetry_cpu_ratio)} (${summary.telemetry_on_cpu_us_per_req.median} vs ${summary.telemetry_off_cpu_us_per_req.median} µs)`);
console.log(JSON.stringify(summary));
