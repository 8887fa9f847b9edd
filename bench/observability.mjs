// `npm run bench:observability`: what riff's own telemetry costs. /requests and /messages
// (node x ** 2, 16 connections) on two daemons started side by side, one with invocation
// records and trace spans and metrics on, the default, and one with
// them off; rounds alternate between the two so that a busy machine weighs on both alike.
// Prints min, median and max per case and the ratio on/off, then one JSON line.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireWrk, startRiff, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
/** The flags that turn riff's telemetry off: records and metrics. */
export const TELEMETRY_OFF = (process.env.BENCH_OFF_FLAGS ?? "--records-max 0 --no-metrics").split(" ");
await requireWrk();

const daemons = { on: await startRiff(), off: await startRiff(TELEMETRY_OFF) };
const figures = { on: { requests: [], messages: [] }, off: { requests: [], messages: [] } };
// Daemon CPU time per request: steadier than req/s on a machine other work shares.
const cpu = { on: { requests: [], messages: [] }, off: { requests: [], messages: [] } };
const pidOf = (riff) => JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8")).pid;
/** utime + stime of a process, in µs (clock ticks of 10 ms). */
const cpuUs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
async function measure(which, path) {
  const riff = daemons[which];
  const pid = pidOf(riff);
  const before = cpuUs(pid);
  const r = await wrk(`${riff.url}/${path}/numbers`, { connections: 16, seconds });
  figures[which][path].push(r.rps);
  cpu[which][path].push((cpuUs(pid) - before) / (r.rps * seconds));
}
try {
  for (const riff of Object.values(daemons)) {
    writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
    await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
    await wrk(`${riff.url}/requests/numbers`, { connections: 16, seconds: 2 }); // warm-up
  }
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first, so neither always runs on the warmer machine.
    const order = round % 2 === 0 ? ["on", "off"] : ["off", "on"];
    for (const which of order) {
      await measure(which, "requests");
      await measure(which, "messages");
    }
    const f = (which, path) => `${figures[which][path].at(-1).toFixed(0)} req/s ${cpu[which][path].at(-1).toFixed(1)} µs cpu/req`;
    console.log(`round ${round + 1}/${rounds}: /requests on ${f("on", "requests")}, off ${f("off", "requests")}; /messages on ${f("on", "messages")}, off ${f("off", "messages")}`);
  }
} finally {
  await Promise.all(Object.values(daemons).map((d) => d.stop()));
}

const summary = { rounds, seconds, off_flags: TELEMETRY_OFF.join(" ") };
console.log("case                      min      median   max   (req/s, c=16)");
for (const path of ["requests", "messages"]) {
  for (const which of ["on", "off"]) {
    const s = spread(figures[which][path]);
    console.log(`/${path} telemetry ${which.padEnd(4)} ${s.min.toFixed(0).padStart(8)} ${s.median.toFixed(0).padStart(8)} ${s.max.toFixed(0).padStart(8)}`);
    summary[`${path}_${which}`] = { min: Math.round(s.min), median: Math.round(s.median), max: Math.round(s.max) };
  }
  // Per round, on/off of that round's pair: the ratio the target speaks of (>= 0.95).
  const ratios = figures.on[path].map((v, i) => v / figures.off[path][i]);
  const r = spread(ratios);
  summary[`${path}_ratio`] = { min: round3(r.min), median: round3(r.median), max: round3(r.max) };
  console.log(`/${path} ratio on/off: min ${round3(r.min)} median ${round3(r.median)} max ${round3(r.max)} (target: median >= 0.95)`);
  // Daemon CPU per request, on/off: what the telemetry adds to each request's work.
  const c = spread(cpu.on[path].map((v, i) => v / cpu.off[path][i]));
  summary[`${path}_cpu_us_per_req`] = { on: round3(spread(cpu.on[path]).median), off: round3(spread(cpu.off[path]).median) };
  summary[`${path}_cpu_ratio`] = { min: round3(c.min), median: round3(c.median), max: round3(c.max) };
  console.log(`/${path} daemon cpu per request on/off: min ${round3(c.min)} median ${round3(c.median)} max ${round3(c.max)} (${summary[`${path}_cpu_us_per_req`].on} vs ${summary[`${path}_cpu_us_per_req`].off} µs)`);
}
console.log(JSON.stringify(summary));

function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0], median: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
}

function round3(x) {
  return Number(x.toFixed(3));
}
