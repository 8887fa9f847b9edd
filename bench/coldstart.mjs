// `npm run bench:coldstart`: for each invoker, the time from an idle function (0 replicas) to
// its first reply through /requests, next to the bare start of the same runtime answering one
// message over a pipe, measured in the same run. Then warm /requests throughput per invoker at
// 16 connections, against the Node invoker. Last line: one JSON object.
//
// How a cold start is forced: each function is created with --idle-timeout 100ms; before every
// timed request the bench polls the admin API (GET /api/v1/functions, every 10 ms) until the
// function has 0 replicas. The timed request is then the one that starts a replica.
//
// Env: COLD_RUNS (default 20, at least 20 for the report), BENCH_SECONDS (wrk, default 5).
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { requireWrk, startRiff, wrk } from "./lib.mjs";

const runs = Math.max(Number(process.env.COLD_RUNS ?? 20), 1);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const MARGIN_MS = 40;
await requireWrk();

const work = mkdtempSync(join(tmpdir(), "riff-coldstart-"));
const python = (await promisify(execFile)("python3", ["-c", "import sys; print(sys.executable)"])).stdout.trim();
const JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-Xshare:auto"];

// ---- bare runtimes: spawn, write one line, time to the first line back ---------------------

mkdirSync(join(work, "tiny"));
writeFileSync(
  join(work, "tiny", "Tiny.java"),
  "public class Tiny { public static void main(String[] a) throws Exception {\n" +
    "  String s = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();\n" +
    "  System.out.println(s.toUpperCase()); System.out.flush(); } }\n",
);
execFileSync("javac", ["-d", join(work, "tiny"), join(work, "tiny", "Tiny.java")]);
// Go's bare start: a static binary (as riff builds functions) reading one line.
mkdirSync(join(work, "tinygo"));
writeFileSync(
  join(work, "tinygo", "main.go"),
  'package main\n\nimport (\n\t"bufio"\n\t"os"\n\t"strings"\n)\n\n' +
    "func main() {\n\ts, _ := bufio.NewReader(os.Stdin).ReadString('\\n')\n\tos.Stdout.WriteString(strings.ToUpper(s))\n}\n",
);
writeFileSync(join(work, "tinygo", "go.mod"), "module tiny\n\ngo 1.19\n");
execFileSync("go", ["build", "-o", "tiny", "."], { cwd: join(work, "tinygo"), env: { ...process.env, CGO_ENABLED: "0", GOPROXY: "off", GOFLAGS: "" } });

const cleanEnv = { ...process.env };
delete cleanEnv.NODE_EXTRA_CA_CERTS;
const bare = {
  node: [process.execPath, ["-e", "process.stdin.once('data', (d) => { process.stdout.write(String(d).toUpperCase()); process.exit(0); })"]],
  python3: [python, ["-c", "import sys; print(sys.stdin.readline().upper(), end='', flush=True)"]],
  "python3 -S": [python, ["-S", "-c", "import sys; print(sys.stdin.readline().upper(), end='', flush=True)"]],
  java: ["java", ["-cp", join(work, "tiny"), "Tiny"]],
  "java, riff's flags": ["java", [...JVM_FLAGS, "-cp", join(work, "tiny"), "Tiny"]],
  go: [join(work, "tinygo", "tiny"), []],
  sh: ["sh", ["-c", 'read x; echo "$x" | tr a-z A-Z']],
};

function bareOnce([command, args]) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { env: cleanEnv, stdio: ["pipe", "pipe", "inherit"] });
    child.stdout.once("data", () => {
      resolve(performance.now() - t0);
      child.kill();
    });
    child.once("error", reject);
    child.stdin.end("hello\n");
  });
}

// ---- riff: one function per invoker, each answered cold `runs` times ----------------------

const functions = {
  node: { file: "upper.js", text: "module.exports = (x) => x.toUpperCase()\n" },
  python3: { file: "upper.py", text: "def upper(x):\n    return x.upper()\n" },
  java: {
    file: "Upper.java",
    text: "package functions;\npublic class Upper implements java.util.function.Function<String, String> {\n  public String apply(String s) { return s.toUpperCase(); }\n}\n",
  },
  go: { file: "upper.go", text: 'package upper\n\nimport "strings"\n\nfunc Upper(s string) string { return strings.ToUpper(s) }\n' },
  command: { file: "upper.sh", text: "#!/bin/sh\ntr a-z A-Z\n", mode: 0o755 },
  "command-lines": { file: "upper.sh", text: "#!/bin/sh\nexec sed -u 's/.*/\\U&/'\n", mode: 0o755 },
};
const bareOf = { node: "node", python3: "python3", java: "java", go: "go", command: "sh", "command-lines": "sh" };

const riff = await startRiff();
const token = readFileSync(join(riff.home, "token"), "utf8").trim();
const replicasOf = async (name) => {
  const res = await fetch(`${riff.url}/api/v1/functions`, { headers: { authorization: `Bearer ${token}` } });
  const { functions: list } = await res.json();
  return list.find((f) => f.name === name)?.replicas.length ?? -1;
};
const untilIdle = async (name) => {
  while ((await replicasOf(name)) !== 0) await new Promise((r) => setTimeout(r, 10));
};
const post = async (topic) => {
  const res = await fetch(`${riff.url}/requests/${topic}`, { method: "POST", body: "hello" });
  const text = await res.text();
  if (res.status !== 200 || text.trim() !== "HELLO") throw new Error(`${topic}: ${res.status} ${text}`);
};

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median: round(median), min: round(s[0]), max: round(s.at(-1)), n: s.length };
};
const round = (x) => Math.round(x * 100) / 100;

const cold = {};
const bareTimes = {};
const throughput = {};
try {
  for (const [invoker, fn] of Object.entries(functions)) {
    const name = `cold-${invoker}`;
    const dir = join(work, invoker);
    mkdirSync(dir);
    writeFileSync(join(dir, fn.file), fn.text, { mode: fn.mode ?? 0o644 });
    await riff.cli("create", invoker, "--name", name, "--input", `${name}-in`, "--filepath", dir, "--idle-timeout", "100ms");
  }
  // Untimed warm-up of each runtime (page cache, JIT of the daemon's own paths).
  for (const invoker of Object.keys(functions)) {
    await untilIdle(`cold-${invoker}`);
    await post(`cold-${invoker}-in`);
  }
  for (const b of Object.values(bare)) await bareOnce(b);

  // Interleave invokers and bare starts run by run, so machine noise hits all of them alike.
  for (let i = 0; i < runs; i++) {
    for (const invoker of Object.keys(functions)) {
      const name = `cold-${invoker}`;
      await untilIdle(name);
      const t0 = performance.now();
      await post(`${name}-in`);
      (cold[invoker] ??= []).push(performance.now() - t0);
    }
    for (const [label, b] of Object.entries(bare)) (bareTimes[label] ??= []).push(await bareOnce(b));
  }

  for (const invoker of Object.keys(functions)) {
    const url = `${riff.url}/requests/cold-${invoker}-in`;
    await wrk(url, { connections: 16, seconds: 1 }); // warm-up
    throughput[invoker] = await wrk(url, { connections: 16, seconds });
  }
} finally {
  await riff.stop();
  rmSync(work, { recursive: true, force: true });
}

// ---- report --------------------------------------------------------------------------------

console.log(`cold start: idle function (0 replicas) -> first /requests reply; ${runs} runs each, ms`);
console.log("case                      median      min      max   bare median   ratio   over bare   target");
const summary = { runs, cold: {}, bare: {}, warm_rps_16: {} };
for (const [label, times] of Object.entries(bareTimes)) summary.bare[label] = stats(times);
for (const [invoker, times] of Object.entries(cold)) {
  const c = stats(times);
  const b = summary.bare[bareOf[invoker]];
  const over = round(c.median - b.median);
  summary.cold[invoker] = { ...c, bare: bareOf[invoker], bare_median: b.median, ratio: round(c.median / b.median), over_bare_ms: over, ok: over <= MARGIN_MS };
  console.log(
    `riff ${invoker.padEnd(20)} ${c.median.toFixed(1).padStart(7)}  ${c.min.toFixed(1).padStart(7)}  ${c.max.toFixed(1).padStart(7)}` +
      `   ${b.median.toFixed(1).padStart(11)}   ${(c.median / b.median).toFixed(2).padStart(5)}   ${over.toFixed(1).padStart(9)}   ${over <= MARGIN_MS ? "ok" : "MISSED"} (<= bare + ${MARGIN_MS})`,
  );
}
for (const [label, b] of Object.entries(summary.bare)) {
  console.log(`bare ${label.padEnd(20)} ${b.median.toFixed(1).padStart(7)}  ${b.min.toFixed(1).padStart(7)}  ${b.max.toFixed(1).padStart(7)}`);
}
console.log(`\nwarm /requests, 16 connections, ${seconds} s each`);
console.log("invoker            req/s   p50 ms   p99 ms   errors   vs node");
for (const [invoker, r] of Object.entries(throughput)) {
  const ratio = r.rps / throughput.node.rps;
  summary.warm_rps_16[invoker] = { rps: Math.round(r.rps), p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, errors: r.errors, vs_node: round(ratio) };
  console.log(
    `${invoker.padEnd(16)} ${r.rps.toFixed(0).padStart(7)}  ${(r.p50_us / 1000).toFixed(2).padStart(7)}  ${(r.p99_us / 1000).toFixed(2).padStart(7)}   ${String(r.errors).padStart(6)}   ${ratio.toFixed(2)}`,
  );
}
console.log(JSON.stringify(summary));
