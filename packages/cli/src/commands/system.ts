import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { fromErrorBody, RiffError, formatDuration, type ErrorBody } from "@riff/core";
import { DaemonClient, readDaemonInfo, type DaemonInfo } from "../client.js";
import { badArgument, flagDuration, flagWholeNumber, info, printData } from "../output.js";

/** The longest wait a Node timer can hold (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Options of `riff system start`. */
export interface StartOptions {
  port?: string;
  host: string;
  maxBodyBytes?: string;
  maxHops?: string;
  poolSize?: string;
  headersTimeout?: string;
  requestTimeout?: string;
  maxConnections?: string;
  recordsMax?: string;
  recordsMaxAge?: string;
  recordsRate?: string;
  otlpEndpoint?: string;
  sandbox?: string;
  limits?: string;
  /** `--metrics on|off`; `--no-metrics` makes it false. */
  metrics?: string | boolean;
  metricsPort?: string;
  metricsAuth?: string;
  broker?: string;
  cluster?: string;
  clusterName?: string;
  nodeName?: string;
  replicas?: string;
  natsCreds?: string;
  natsNkey?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  runs?: string;
  autoscaler?: string;
  tokenFile?: string;
}

/** Flags passed on to the daemon as they are: it checks them and names the one at fault. */
const PASSED: [Exclude<keyof StartOptions, "metrics">, string][] = [
  ["sandbox", "--sandbox"],
  ["limits", "--limits"],
  ["metricsAuth", "--metrics-auth"],
  ["otlpEndpoint", "--otlp-endpoint"],
  ["broker", "--broker"],
  ["cluster", "--cluster"],
  ["clusterName", "--cluster-name"],
  ["nodeName", "--node-name"],
  ["replicas", "--replicas"],
  ["natsCreds", "--nats-creds"],
  ["natsNkey", "--nats-nkey"],
  ["natsTlsCa", "--nats-tls-ca"],
  ["natsTlsCert", "--nats-tls-cert"],
  ["natsTlsKey", "--nats-tls-key"],
  ["runs", "--runs"],
  ["autoscaler", "--autoscaler"],
  ["tokenFile", "--token-file"],
];

/** True when the daemon `daemon.json` names answers /healthz with its own pid (a crash leaves the file behind). */
async function alive(info: DaemonInfo): Promise<boolean> {
  try {
    const res = await fetch(`${info.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { pid?: number }).pid === info.pid;
  } catch {
    return false;
  }
}

/** @default 8080: the port of a home's first start. */
const DEFAULT_PORT = 8080;
/** The file in the home that remembers the port of the last start. */
const LAST_PORT_FILE = "last-port";

/** The port the daemon of `home` last listened on, if it ever started. */
function lastPort(home: string): string | undefined {
  try {
    return readFileSync(join(home, LAST_PORT_FILE), "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * Node flags for the daemon. `--max-semi-space-size=4`: V8's young generation is two semi-spaces
 * of up to 16 MiB each, and the daemon's allocation rate under load grows them to that: 32 MiB
 * of RSS. 4 MiB each saves 24 MiB of it, for more frequent scavenges (what that costs is in
 * docs/performance.md, "Memory"). It has to be given at start (the heap is laid out then), and a
 * flag on the command line beats NODE_OPTIONS, so one set there by the user is left to win.
 */
export function daemonNodeFlags(nodeOptions: string | undefined): string[] {
  return nodeOptions?.includes("semi-space") === true ? [] : ["--max-semi-space-size=4"];
}

/** `riff system start`: runs the daemon in the background and returns once it is ready. */
export async function start(home: string, options: StartOptions): Promise<void> {
  const existing = readDaemonInfo(home);
  if (existing !== undefined && (await alive(existing))) {
    await refuseOtherFlags(home, existing, options);
    info(`riff is already running at ${existing.url} (pid ${existing.pid}, home ${home})`);
    process.stdout.write(`${existing.url}\n`);
    return;
  }
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const main = fileURLToPath(import.meta.resolve("@riff/daemon/main"));
  const log = openSync(join(home, "daemon.log"), "a");
  // Checked here, before a daemon is spawned, so the error names the flag the user typed.
  // Without --port, the port this home last ran on: URLs written down (curl lines, webhooks)
  // keep working across stop and start, even after --port 0 picked one.
  const port = flagWholeNumber(options.port ?? lastPort(home) ?? String(DEFAULT_PORT), "--port", 0, 65535) ?? DEFAULT_PORT;
  const args = [main, "--home", home, "--port", String(port), "--host", options.host];
  if (options.maxBodyBytes !== undefined) args.push("--max-body-bytes", options.maxBodyBytes);
  const numbers: [string | undefined, string, number][] = [
    [options.maxHops, "--max-hops", 1],
    [options.poolSize, "--pool-size", 0],
    [options.maxConnections, "--max-connections", 1],
    [options.recordsMax, "--records-max", 0],
    [options.recordsRate, "--records-rate", 0],
  ];
  for (const [value, flag, min] of numbers) {
    const n = flagWholeNumber(value, flag, min);
    if (n !== undefined) args.push(flag, String(n));
  }
  for (const [value, flag] of [[options.headersTimeout, "--headers-timeout"], [options.requestTimeout, "--request-timeout"], [options.recordsMaxAge, "--records-max-age"]] as const) {
    if (value === undefined) continue;
    const ms = flagDuration(value, flag);
    if (!(ms >= 1 && ms <= MAX_TIMER_MS)) throw badArgument(`${flag} ${value}: must be from 1ms to 24d`, `for example ${flag} 10s`);
    args.push(flag, String(ms));
  }
  const metricsPort = flagWholeNumber(options.metricsPort, "--metrics-port", 0, 65535);
  if (metricsPort !== undefined) args.push("--metrics-port", String(metricsPort));
  // Commander gives true when neither --metrics nor --no-metrics was typed.
  if (options.metrics === false) args.push("--metrics", "off");
  else if (typeof options.metrics === "string") args.push("--metrics", options.metrics);
  for (const [key, flag] of PASSED) {
    const value = options[key];
    // Paths are the user's, relative to where they ran riff; the daemon runs elsewhere.
    if (value !== undefined) args.push(flag, flag.startsWith("--nats-") || flag === "--token-file" ? resolve(value) : value);
  }
  const child = spawn(process.execPath, [...daemonNodeFlags(process.env["NODE_OPTIONS"]), ...args], {
    detached: true,
    stdio: ["ignore", log, log, "pipe"],
    env: { ...process.env, RIFF_READY_FD: "3" },
  });
  closeSync(log);
  const ready = child.stdio[3] as Readable;
  const outcome = await new Promise<{ ok: true; info: DaemonInfo } | { ok: false; error: ErrorBody }>((resolve) => {
    let text = "";
    ready.setEncoding("utf8");
    ready.on("data", (chunk: string) => {
      text += chunk;
      const nl = text.indexOf("\n");
      if (nl !== -1) resolve(JSON.parse(text.slice(0, nl)) as { ok: true; info: DaemonInfo });
    });
    child.once("exit", (code) =>
      resolve({ ok: false, error: { code: "RIFF_INTERNAL", message: `the daemon exited (code ${String(code)}) before it was ready; see ${join(home, "daemon.log")}` } }),
    );
  });
  ready.destroy();
  child.unref();
  if (!outcome.ok) throw fromErrorBody(outcome.error);
  writeFileSync(join(home, LAST_PORT_FILE), `${outcome.info.port}\n`);
  info(`riff is running (pid ${outcome.info.pid}, home ${home})`);
  info(`gateway: POST ${outcome.info.url}/messages/TOPIC or ${outcome.info.url}/requests/TOPIC`);
  if (outcome.info.sandbox === "none") {
    info("warning: --sandbox none: functions run unsandboxed and can read and write what riff's user can");
  }
  for (const note of outcome.info.notes ?? []) info(`note: ${note}`);
  process.stdout.write(`${outcome.info.url}\n`);
}

/** `riff system stop`: asks the daemon to drain and stop, and waits until its process is gone. */
export async function stop(home: string): Promise<void> {
  const client = new DaemonClient(home);
  const pid = client.info.pid;
  await client.call("POST", "shutdown");
  // Another process's exit cannot be awaited as an event; poll it briefly.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (processGone(pid)) {
      info(`riff stopped (pid ${pid})`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new RiffError("RIFF_INTERNAL", `the daemon (pid ${pid}) did not stop within 60 s`, { hint: `kill it with: kill ${pid}` });
}

/** True once `pid` has exited. A zombie counts as gone: a container's init may never reap it. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/**
 * A start on a home whose daemon runs stays a no-op (scripts repeat it), unless it asks for
 * another node, port or cluster than the running one's: those flags would be dropped without a
 * word, and a user who forgot to give a second node its own home would think it started.
 */
async function refuseOtherFlags(home: string, running: DaemonInfo, options: StartOptions): Promise<void> {
  const differs: string[] = [];
  const port = new URL(running.url).port;
  if (options.port !== undefined && options.port !== "0" && options.port !== port) differs.push(`--port ${options.port} (it runs with ${port})`);
  // What it runs as is asked only when a flag names it.
  if (options.nodeName !== undefined || options.clusterName !== undefined || options.cluster !== undefined) {
    const { cluster, broker } = await new DaemonClient(home).call<{ cluster?: { name: string; node: string }; broker?: string }>("GET", "status");
    if (options.nodeName !== undefined && options.nodeName !== cluster?.node) differs.push(`--node-name ${options.nodeName} (it runs with ${cluster?.node ?? "none"})`);
    if (options.clusterName !== undefined && options.clusterName !== cluster?.name) differs.push(`--cluster-name ${options.clusterName} (it runs with ${cluster?.name ?? "none"})`);
    if (options.cluster !== undefined && cluster === undefined) differs.push("--cluster (it runs alone)");
    else if (options.cluster !== undefined) {
      // Some of its servers named again (another order, fewer) is the same cluster; a server it
      // does not use is another one, or a mistake to point out.
      const uses = new Set(serverList(broker ?? ""));
      const other = serverList(options.cluster).filter((url) => !uses.has(url));
      if (other.length > 0) differs.push(`--cluster ${options.cluster} (it runs on ${broker ?? "other servers"})`);
    }
  }
  if (differs.length === 0) return;
  throw new RiffError("RIFF_DAEMON_ALREADY_RUNNING", `riff already runs from home ${home} (pid ${running.pid}, ${running.url}); not applied: ${differs.join(", ")}`, {
    hint: "a second node on this machine needs its own home: riff system start --home DIR ... (or RIFF_HOME=DIR); to restart this one with these flags: riff system stop, then riff system start ...",
  });
}

/** NATS URLs as compared: trimmed, lower-case, without a trailing slash. */
function serverList(urls: string): string[] {
  return urls.split(",").map((u) => u.trim().toLowerCase().replace(/\/+$/, "")).filter((u) => u !== "");
}

/** `riff system status`. */
export async function status(home: string, output: string | undefined): Promise<void> {
  const client = new DaemonClient(home);
  const s = await client.call<{
    url: string;
    metricsUrl?: string;
    pid: number;
    uptimeMs: number;
    version: string;
    state: string;
    sandbox: string;
    limits?: string;
    runs?: string;
    autoscaler?: string;
    broker?: string;
    nats?: { connected: boolean; since: number };
    cluster?: { name: string; node: string; leader?: string; nodes: number; replicas: number };
  }>("GET", "status");
  const { functions } = await client.call<{ functions: unknown[] }>("GET", "functions");
  if (output === "json") {
    process.stdout.write(`${JSON.stringify({ ...s, functions: functions.length })}\n`);
    return;
  }
  if (await printData(output, { ...s, functions: functions.length })) return;
  process.stdout.write(
    `riff ${s.version} is ${s.state} at ${s.url}\n  pid ${s.pid}, up ${formatDuration(s.uptimeMs)}, home ${home}\n  ${functions.length} function(s), sandbox: ${s.sandbox}, topics: ${s.broker ?? "embedded"}\n  limits enforced by ${s.limits ?? "nothing"}\n`,
  );
  if (s.metricsUrl !== undefined) process.stdout.write(`  metrics: ${s.metricsUrl}\n`);
  // Absent from daemons older than these fields.
  if (s.runs !== undefined) process.stdout.write(`  runs: ${s.runs}, autoscaler: ${s.autoscaler ?? "on"}\n`);
  if (s.cluster !== undefined) {
    const c = s.cluster;
    process.stdout.write(`  node ${c.node} of cluster ${c.name}: ${c.nodes} node(s) alive, leader ${c.leader ?? "(being elected)"}, ${c.replicas} cop${c.replicas === 1 ? "y" : "ies"} of each topic\n`);
  }
  if (s.nats !== undefined && !s.nats.connected) {
    process.stdout.write(`  NATS is unreachable since ${new Date(s.nats.since).toISOString()}: publishing answers 503 meanwhile; riff reconnects by itself\n`);
  }
}
