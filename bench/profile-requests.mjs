// Profiles `/requests` at 16 connections (docs/performance.md): the daemon runs under
// bench/cpu-prof-preload.cjs (NODE_OPTIONS passes through `riff system start`; Node refuses
// --cpu-prof there), wrk loads it for
// BENCH_SECONDS (default 10), and the daemon's profile lands in PROFILE_DIR (default a
// temporary folder) when it stops. Summarize with bench/cpuprofile-top.mjs.
// Env PROFILE_ARGS: extra `riff system start` flags (e.g. "--sandbox none"); PROFILE_PATH=messages
// loads `/messages` on a topic no function reads instead, PROFILE_PATH=messages-run `/messages` on
// the function's topic (as `npm run bench` does: the daemon also runs every message), and then
// waits for that backlog to be run before it stops the daemon.
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drained, requireWrk, startRiff, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const dir = process.env.PROFILE_DIR ?? mkdtempSync(join(tmpdir(), "riff-profile-"));
mkdirSync(dir, { recursive: true });
await requireWrk();

const node = process.env.NODE_OPTIONS ?? "";
process.env.NODE_OPTIONS = `${node} --require ${join(import.meta.dirname, "cpu-prof-preload.cjs")}`.trim();
process.env.RIFF_CPU_PROF_DIR = dir;
const riff = await startRiff((process.env.PROFILE_ARGS ?? "").split(" ").filter(Boolean));
process.env.NODE_OPTIONS = node;
delete process.env.RIFF_CPU_PROF_DIR;
try {
  writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
  await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
  await riff.cli("topics", "create", "events");
  const urls = { messages: `${riff.url}/messages/events`, "messages-run": `${riff.url}/messages/numbers` };
  const url = urls[process.env.PROFILE_PATH ?? ""] ?? `${riff.url}/requests/numbers`;
  await wrk(url, { connections: 16, seconds: 2 }); // warm-up
  const r = await wrk(url, { connections: 16, seconds });
  console.log(JSON.stringify({ rps: r.rps, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, requests: r.requests }));
  if (process.env.PROFILE_PATH === "messages-run") await drained(riff, "numbers");
} finally {
  await riff.stop();
}
// The CLI's calls leave small profiles of their own there too: the daemon's is the largest.
const largest = readdirSync(dir).map((f) => [f, statSync(join(dir, f)).size]).sort((a, b) => b[1] - a[1])[0];
console.log(`daemon profile: ${join(dir, largest[0])}`);
