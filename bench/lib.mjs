// Shared by the benchmarks: run wrk, start riff in a temporary home, print tables.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "..");
export const RIFF = join(ROOT, "packages/cli/bin/riff.js");

/** Fails early, with the fix, when wrk is missing. */
export async function requireWrk() {
  try {
    await run("wrk", ["--version"]).catch((e) => {
      if (e.code === "ENOENT") throw e;
    });
  } catch {
    console.error("The benchmarks need wrk (a load generator): apt-get install wrk");
    process.exit(1);
  }
}

/** Runs wrk against `url` and returns {rps, min_us, p50_us, p99_us, max_us, errors}. */
export async function wrk(url, { connections, seconds, unique = false }) {
  const { stdout } = await run(
    "wrk",
    ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", join(ROOT, "bench/wrk-post.lua"), url],
    { maxBuffer: 1 << 20, env: { ...process.env, WRK_UNIQUE: unique ? "1" : "0" } },
  );
  const line = stdout.trim().split("\n").reverse().find((l) => l.startsWith("{"));
  return JSON.parse(line);
}

/** Starts a process that prints its port on the first line of stdout. */
export async function startServer(command, args, env = process.env) {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env });
  const port = await new Promise((res, rej) => {
    child.stdout.once("data", (d) => res(Number(String(d).trim())));
    child.once("exit", (code) => rej(new Error(`${command} exited with ${code}`)));
  });
  return { port, stop: () => child.kill("SIGTERM") };
}

/**
 * Starts riff on a free port in a temporary home; returns {url, home, cli, stop}. `riff`: the
 * CLI of another checkout (bench/ab.mjs compares two builds), else this one's.
 */
export async function startRiff(extraArgs = [], riff = RIFF, extraEnv = {}) {
  const home = mkdtempSync(join(tmpdir(), "riff-bench-"));
  const env = { ...process.env, ...extraEnv, RIFF_HOME: home };
  const cli = async (...args) => (await run(process.execPath, [riff, ...args], { env, cwd: home })).stdout;
  const url = (await cli("system", "start", "--port", "0", ...extraArgs)).trim();
  return {
    url,
    home,
    cli,
    stop: async () => {
      await cli("system", "stop").catch(() => {});
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * CPU time (user + system, in µs; clock ticks of 10 ms) the daemon of a riff started by
 * {@link startRiff} has used so far: per request, steadier than req/s on a shared machine.
 */
export async function daemonCpuUs(riff) {
  const { pid } = JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8"));
  return cpuUs(pid);
}

/** CPU time (user + system, µs) process `pid` has used so far. */
function cpuUs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** `pid` and all its descendants (a replica's pid is its sandbox's; the runtime runs below it). */
export function processTree(pid) {
  const children = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
      if (text !== "") children.push(...text.split(" ").map(Number));
    }
  } catch {
    return [pid];
  }
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time (µs) of every process of every replica of `riff`'s functions now, by pid. */
export async function replicaCpuUs(riff) {
  const { functions } = await admin(riff, "functions");
  const cpu = new Map();
  for (const pid of functions.flatMap((f) => f.replicas ?? []).flatMap((r) => processTree(r.pid))) {
    try {
      cpu.set(pid, cpuUs(pid));
    } catch {
      // Gone meanwhile: it counts in neither reading.
    }
  }
  return cpu;
}

/** CPU (µs) the processes in both readings of {@link replicaCpuUs} used between them. */
export function cpuBetween(before, after) {
  let us = 0;
  for (const [pid, v] of after) if (before.has(pid)) us += v - before.get(pid);
  return us;
}

export const ms = (us) => (us / 1000).toFixed(2);

/** Prints one row per case: req/s and latency min / p50 / p99 / max in ms. */
export function printTable(rows) {
  console.log("case                          req/s      min ms   p50 ms   p99 ms   max ms");
  for (const [name, r] of rows) {
    console.log(
      `${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)}   ${ms(r.min_us).padStart(7)}  ${ms(r.p50_us).padStart(7)}  ${ms(r.p99_us).padStart(7)}  ${ms(r.max_us).padStart(7)}`,
    );
  }
}

/** Median, min and max of a list of numbers. */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, min: sorted[0], p50: at(0.5), p99: at(0.99), max: sorted.at(-1) };
}

/** Calls the admin API of a riff started by {@link startRiff}. */
export async function admin(riff, path, init = {}) {
  const token = readFileSync(join(riff.home, "token"), "utf8").trim();
  const res = await fetch(`${riff.url}/api/v1/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** The consumer lag of the functions reading `topic`, through `riff`'s admin API ({url, home}). */
export async function topicLag(riff, topic = "numbers") {
  const info = await admin(riff, `topics/${topic}`);
  return info.groups.reduce((n, g) => n + g.lag, 0);
}

/**
 * Waits, untimed, until the functions reading `topic` consumed what `/messages` left there, so a
 * case that follows does not pay for it; resolves with how long that took, or rejects with the lag
 * left after `timeoutMs` (a stall).
 */
export async function drained(riff, topic = "numbers", timeoutMs = 120_000) {
  const start = Date.now();
  let last;
  try {
    await until(async () => (last = await topicLag(riff, topic)) === 0, { everyMs: 100, timeoutMs });
  } catch (err) {
    // Only the wait running out is a stall; a failed admin call says what failed.
    if (err.message !== UNTIL_TIMEOUT) throw err;
    throw new Error(`the lag on '${topic}' was still ${last} after ${timeoutMs} ms (a stall)`);
  }
  return Date.now() - start;
}

/** The message of {@link until}'s error when its wait runs out. */
const UNTIL_TIMEOUT = "timed out waiting";

/** Polls `check` every `everyMs` until it returns a value (benchmarks only: tests wait on events). */
export async function until(check, { everyMs = 10, timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(UNTIL_TIMEOUT);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every message of a topic, through the admin API's tail (NDJSON). */
export async function readTopic(riff, topic) {
  const token = readFileSync(join(riff.home, "token"), "utf8").trim();
  const res = await fetch(`${riff.url}/api/v1/topics/${topic}/messages?from=beginning&count=100000000`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}
