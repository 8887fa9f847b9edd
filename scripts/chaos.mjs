// `npm run chaos`: kill -9 at random points of a 3-stage pipeline under load, and count what
// came out at the end. Each trial publishes CHAOS_MESSAGES messages (default 100) to the
// pipeline's first topic, 8 at a time, and at a random point kills the daemon, a replica, or a
// replica and then the daemon (which is then started again on the same home). It prints per
// trial: acknowledged (answered 202), delivered at the end, lost (acknowledged and never
// delivered: must be 0), duplicates (deliveries past the first), and the time to recover (from
// the kill until a message acknowledged after it comes out at the end). Then a summary, and a
// JSON line last. CHAOS_TRIALS (default 100) sets the number of trials; CHAOS_SEED the random
// seed (printed, so a run can be repeated).
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const ROOT = resolve(import.meta.dirname, "..");
const RIFF = join(ROOT, "packages/cli/bin/riff.js");
const TRIALS = Number(process.env.CHAOS_TRIALS ?? 100);
const MESSAGES = Number(process.env.CHAOS_MESSAGES ?? 100);
const CONCURRENCY = 8;
const DELIVERY_TIMEOUT_MS = 120_000;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const STAGES = ["chaos-a", "chaos-b", "chaos-c", "chaos-out"];

// A small seeded generator (mulberry32), so that a failing run can be repeated.
let state = SEED;
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const run = promisify(execFile);
const t0 = Date.now();
const progress = (...a) => console.error(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const home = mkdtempSync(join(tmpdir(), "riff-chaos-"));
const env = { ...process.env, RIFF_HOME: home };
const cli = async (...args) => (await run(process.execPath, [RIFF, ...args], { env, cwd: home, maxBuffer: 64 << 20 })).stdout;
let url = "";
const daemonPid = () => JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")).pid;
async function startRiff() {
  url = (await cli("system", "start", "--port", "0")).trim();
}

/** Every message that reached the end, by id: how many times. Fed by `riff topics tail -f`. */
const delivered = new Map();
const firstSeenAt = new Map();
const seenOffsets = new Set();
let tail;
function followEnd() {
  tail?.kill();
  const child = spawn(process.execPath, [RIFF, "topics", "tail", "chaos-out", "--from-beginning", "-f", "-o", "json"], { env, stdio: ["ignore", "pipe", "ignore"] });
  let rest = "";
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") continue;
      const m = JSON.parse(line);
      const at = `${m.partition}:${m.offset}`;
      if (seenOffsets.has(at)) continue;
      seenOffsets.add(at);
      delivered.set(m.payload, (delivered.get(m.payload) ?? 0) + 1);
      if (!firstSeenAt.has(m.payload)) firstSeenAt.set(m.payload, Date.now());
    }
  });
  tail = child;
}

async function replicaPids() {
  const list = JSON.parse(await cli("list", "-o", "json"));
  return list.flatMap((f) => f.replicas.map((r) => r.pid)).filter((p) => typeof p === "number");
}

/** Kills what `action` says; resolves with when the last kill was sent, once riff runs again. */
async function kill(action) {
  let at = Date.now();
  if (action !== "daemon") {
    const pids = await replicaPids().catch(() => []);
    if (pids.length > 0) process.kill(pick(pids), "SIGKILL");
    at = Date.now();
  }
  if (action !== "replica") {
    process.kill(daemonPid(), "SIGKILL");
    at = Date.now();
    await startRiff();
    followEnd();
  }
  return at;
}

async function trial(n) {
  const action = pick(["daemon", "replica", "both"]);
  const killAt = 10 + Math.floor(random() * (MESSAGES - 20));
  const acked = [];
  /** When each message's POST was sent: recovery counts only those sent after the kill. */
  const sentAt = new Map();
  let killedAt;
  let killing;
  let next = 0;
  const worker = async () => {
    while (next < MESSAGES) {
      const id = `t${n}-${next++}`;
      if (killing === undefined && acked.length >= killAt) {
        killing = kill(action).then((at) => (killedAt = at));
      }
      // The rest of the load goes after the kill, so that what came of it is measured.
      if (killing !== undefined) await killing;
      sentAt.set(id, Date.now());
      try {
        const res = await fetch(`${url}/messages/chaos-a`, { method: "POST", body: id, headers: { "content-type": "text/plain", "x-riff-key": id } });
        if (res.status === 202) acked.push(id);
        await res.arrayBuffer();
      } catch {
        // The daemon was killed under this call: not acknowledged, so not counted.
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await killing;
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (acked.some((id) => !delivered.has(id)) && Date.now() < deadline) await sleep(50);
  const lost = acked.filter((id) => !delivered.has(id));
  const duplicates = acked.reduce((sum, id) => sum + Math.max(0, (delivered.get(id) ?? 0) - 1), 0);
  const after = acked.filter((id) => (sentAt.get(id) ?? 0) > (killedAt ?? Infinity) && firstSeenAt.has(id));
  const recoverMs = after.length === 0 ? null : Math.min(...after.map((id) => firstSeenAt.get(id))) - killedAt;
  const result = { trial: n, action, killAt, acknowledged: acked.length, delivered: acked.length - lost.length, lost: lost.length, duplicates, recoverMs };
  console.log(`trial ${String(n).padStart(3)}  kill ${action.padEnd(7)} at ${String(killAt).padStart(3)}/${MESSAGES}: acknowledged ${acked.length}, delivered ${result.delivered}, lost ${lost.length}, duplicates ${duplicates}, recovered in ${recoverMs ?? "-"} ms`);
  if (lost.length > 0) progress(`trial ${n}: LOST ${lost.slice(0, 10).join(", ")}${lost.length > 10 ? " ..." : ""}`);
  return result;
}

function stats(values) {
  const v = values.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? { min: null, median: null, max: null } : { min: v[0], median: v[Math.floor(v.length / 2)], max: v[v.length - 1] };
}

const results = [];
try {
  progress(`seed ${SEED}; ${TRIALS} trials of ${MESSAGES} messages; home ${home}`);
  await startRiff();
  const dir = mkdtempSync(join(tmpdir(), "riff-chaos-fn-"));
  for (let i = 0; i < 3; i++) {
    const name = `stage${i + 1}`;
    writeFileSync(join(dir, `${name}.js`), "module.exports = (x) => x;\n");
    await cli("create", "node", "--name", name, "--input", STAGES[i], "--output", STAGES[i + 1], "--partitions", "2", "--min-replicas", "1", "--filepath", dir, "--artifact", `${name}.js`, "--force");
  }
  followEnd();
  for (let n = 1; n <= TRIALS; n++) results.push(await trial(n));
} finally {
  tail?.kill();
  await cli("system", "stop").catch(() => {
    try {
      process.kill(daemonPid(), "SIGKILL");
    } catch {
      // gone
    }
  });
  rmSync(home, { recursive: true, force: true });
}

const sum = (k) => results.reduce((s, r) => s + r[k], 0);
const recover = stats(results.map((r) => r.recoverMs));
const byAction = Object.fromEntries(["daemon", "replica", "both"].map((a) => [a, stats(results.filter((r) => r.action === a).map((r) => r.recoverMs))]));
console.log(`\n${results.length} trials: acknowledged ${sum("acknowledged")}, delivered ${sum("delivered")}, lost ${sum("lost")}, duplicates ${sum("duplicates")}`);
console.log(`time to recover (ms): min ${recover.min} median ${recover.median} max ${recover.max}; by kill: ${Object.entries(byAction).map(([a, s]) => `${a} ${s.median} (${s.min}-${s.max})`).join(", ")}`);
console.log(JSON.stringify({ seed: SEED, trials: results.length, messages: MESSAGES, acknowledged: sum("acknowledged"), delivered: sum("delivered"), lost: sum("lost"), duplicates: sum("duplicates"), recover_ms: recover, recover_ms_by_kill: byAction, runs: results }));
if (sum("lost") > 0) process.exitCode = 1;
