// Profiles `/requests` at 16 connections (docs/performance.md): the daemon runs under
// bench/cpu-prof-preload.cjs (NODE_OPTIONS passes through `riff system start`; Node refuses
// --cpu-prof there), wrk loads it for
// BENCH_SECONDS (default 10), and the daemon's profile lands in PROFILE_DIR (default a
// temporary folder) when it stops. Summarize with bench/cpuprofile-top.mjs.
// Env PROFILE_ARGS: extra `riff system start` flags (e.g. "--sandbox none"); PROFILE_PATH=messages
// loads `/messages` on a topic no function reads instead, PROFILE_PATH=messages-run `/messages` on
// the function's topic (as `npm run bench` does: the daemon also runs every message), and then
// waits for that backlog to be run before it stops the daemon. RIFF_PROF_KIND=alloc: an
// allocation profile instead (bench/heapprofile-top.mjs sums it); RIFF_PROF_KIND=gc: the
// daemon's collections during the load (and its backlog), per message, with its CPU per message.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { daemonCpuUs, drained, requireWrk, startRiff, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), "riff-profile-"));
mkdirSync(dir, { recursive: true });
await requireWrk();

const node = process.env.NODE_OPTIONS ?? "";
process.env.NODE_OPTIONS = `${node} --require ${join(import.meta.dirname, "cpu-prof-preload.cjs")}`.trim();
process.env.RIFF_CPU_PROF_DIR = dir;
// Only the daemon: not the CLI's calls, nor the replicas.
process.env.RIFF_CPU_PROF_ARG = "--home";
const riff = await startRiff((process.env.PROFILE_ARGS ?? "").split(" ").filter(Boolean));
process.env.NODE_OPTIONS = node;
delete process.env.RIFF_CPU_PROF_DIR;
delete process.env.RIFF_CPU_PROF_ARG;
const kind = process.env.RIFF_PROF_KIND ?? "cpu";
const gc = kind === "gc";
const { pid } = JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8"));
let cpuUsPerRequest = 0;
let requests = 0;
try {
  writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
  await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
  await riff.cli("topics", "create", "events");
  const urls = { messages: `${riff.url}/messages/events`, "messages-run": `${riff.url}/messages/numbers` };
  const url = urls[process.env.PROFILE_PATH ?? ""] ?? `${riff.url}/requests/numbers`;
  const backlog = process.env.PROFILE_PATH === "messages-run";
  await wrk(url, { connections: 16, seconds: 2 }); // warm-up
  if (backlog) await drained(riff, "numbers");
  // The collections of the load alone: the preload starts counting again.
  if (gc) process.kill(pid, "SIGUSR2");
  const cpu0 = await daemonCpuUs(riff);
  const r = await wrk(url, { connections: 16, seconds });
  if (backlog) await drained(riff, "numbers");
  cpuUsPerRequest = ((await daemonCpuUs(riff)) - cpu0) / r.requests;
  requests = r.requests;
  console.log(JSON.stringify({ rps: r.rps, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, requests: r.requests, daemon_cpu_us_per_request: Number(cpuUsPerRequest.toFixed(1)) }));
} finally {
  await riff.stop();
}
const file = join(dir, `${pid}.${{ cpu: "cpuprofile", alloc: "heapprofile", gc: "gc.json" }[kind]}`);
if (gc) {
  const counts = JSON.parse(readFileSync(file, "utf8"));
  const perRequest = Object.fromEntries(Object.entries(counts).map(([name, c]) => [name, { count: c.count, ms: Number(c.ms.toFixed(1)), us_per_request: Number(((c.ms * 1000) / requests).toFixed(2)) }]));
  const total = Object.values(counts).reduce((us, c) => us + c.ms * 1000, 0) / requests;
  console.log(JSON.stringify({ gc: perRequest, gc_us_per_request: Number(total.toFixed(2)), daemon_cpu_us_per_request: Number(cpuUsPerRequest.toFixed(1)) }));
} else console.log(`daemon profile: ${file}`);
