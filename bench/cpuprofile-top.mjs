// Sums a V8 .cpuprofile's self time per function and per file, for docs/performance.md:
//   node bench/cpuprofile-top.mjs PROFILE.cpuprofile [top=30]
// Self time: samples whose top frame is the function. Files are shortened to the part after
// node_modules/ or packages/, so that the output carries no machine's paths.
import { readFileSync } from "node:fs";
import { frameTally, shortUrl } from "./frame-tally.mjs";

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
// Sample intervals (µs), one per sample: each sample is worth the time until the next.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
}
const tally = frameTally();
for (const [id, us] of selfUs) tally.add(byId.get(id).callFrame, us);
const { fns, files, total } = tally;
const print = (title, map) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
print("self time per function", fns);
print("self time per file", files);

// Per stage: each sample goes to the nearest frame (from the top of its stack down) whose file
// names a stage, so a native call (a write, a SQLite step) counts for the code that made it.
const STAGES = [
  ["gc", /^\(garbage collector\)$/],
  ["idle", /^\(idle\)$|^\(program\)$/],
  ["sqlite (better-sqlite3)", /better-sqlite3/],
  ["frames (protocol)", /protocol\//],
  ["broker (append, read)", /broker\//],
  ["dispatch (runtime)", /runtime\//],
  ["gateway", /gateway\//],
  ["telemetry (metrics, records)", /daemon\/.*(metric|record|telemetry|otlp)/],
  ["daemon other", /daemon\//],
  ["core", /core\//],
  ["node http", /node:_http|node:http/],
  ["node net/streams", /node:net|node:internal\/stream|node:stream|node:internal\/streams/],
];
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const stages = new Map();
for (const [id, us] of selfUs) {
  let stage = "other (node internals, native)";
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at).callFrame;
    const name = f.url === "" ? f.functionName : shortUrl(f.url);
    const hit = STAGES.find(([, re]) => re.test(name));
    if (hit) {
      stage = hit[0];
      break;
    }
  }
  stages.set(stage, (stages.get(stage) ?? 0) + us);
}
print("per stage (nearest riff or node frame)", stages);
// The same, as shares of the time the process was busy (idle left out): with a process's CPU
// per request (bench: daemon cpu per call), share × that is the stage's µs per request.
const busy = total - (stages.get("idle") ?? 0);
console.log(`\nper stage, of busy time (${(busy / 1000).toFixed(0)} ms)`);
for (const [k, us] of [...stages].filter(([k]) => k !== "idle").sort((a, b) => b[1] - a[1]))
  console.log(`${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`);
