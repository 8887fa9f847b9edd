/**
 * The daemon's process entry: `node main.js --home DIR --port N`. `riff system start` runs it in
 * the background and reads one JSON line from the fd named by RIFF_READY_FD: the daemon's info
 * when it is ready, or the error that stopped it.
 */
import { readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseDuration, parseSize, RiffError, toRiffError } from "@riff/core";
import type { LimitsMode, SandboxMode } from "@riff/runtime";
import { Daemon, type DaemonInfo } from "./daemon.js";
import { limitHeapGrowth } from "./heap-growth.js";
import { createJsonLogger } from "./logger.js";
import { homePaths, resolveDaemonOptions, type DaemonOptions } from "./options.js";

function report(message: { ok: true; info: DaemonInfo } | { ok: false; error: unknown }): void {
  const fd = Number(process.env["RIFF_READY_FD"] ?? NaN);
  if (!Number.isInteger(fd)) return;
  try {
    writeSync(fd, `${JSON.stringify(message)}\n`);
  } catch {
    // the starter went away; the log says what happened
  }
}

/**
 * A live daemon on the same home: `daemon.json` names it and it answers /healthz with its pid.
 * Asking it, rather than probing the pid, also sees through a stale file left by a kill -9 and
 * through a zombie pid that a container's init never reaped.
 */
async function runningDaemon(home: string): Promise<DaemonInfo | undefined> {
  try {
    const info = JSON.parse(readFileSync(homePaths(home).daemonInfo, "utf8")) as DaemonInfo;
    const res = await fetch(`${info.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { pid?: number };
    return body.pid === info.pid ? info : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  limitHeapGrowth();
  const { values } = parseArgs({
    options: {
      home: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "max-body-bytes": { type: "string" },
      "log-level": { type: "string" },
      "max-hops": { type: "string" },
      "pool-size": { type: "string" },
      "headers-timeout": { type: "string" },
      "request-timeout": { type: "string" },
      "max-connections": { type: "string" },
      metrics: { type: "string" },
      "metrics-port": { type: "string" },
      "metrics-auth": { type: "string" },
      "records-max": { type: "string" },
      "records-max-age": { type: "string" },
      "records-rate": { type: "string" },
      "otlp-endpoint": { type: "string" },
      sandbox: { type: "string" },
      limits: { type: "string" },
      broker: { type: "string" },
      cluster: { type: "string" },
      "cluster-name": { type: "string" },
      "node-name": { type: "string" },
      replicas: { type: "string" },
      "nats-creds": { type: "string" },
      "nats-nkey": { type: "string" },
      "nats-tls-ca": { type: "string" },
      "nats-tls-cert": { type: "string" },
      "nats-tls-key": { type: "string" },
      runs: { type: "string" },
      autoscaler: { type: "string" },
      "token-file": { type: "string" },
    },
  });
  const nats = {
    creds: values["nats-creds"],
    nkey: values["nats-nkey"],
    tlsCa: values["nats-tls-ca"],
    tlsCert: values["nats-tls-cert"],
    tlsKey: values["nats-tls-key"],
  };
  const logger = createJsonLogger(values["log-level"] === "debug" ? "debug" : "info");
  const given: DaemonOptions = {
    ...(values.home !== undefined ? { home: values.home } : {}),
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values["max-hops"] !== undefined ? { maxHops: Number(values["max-hops"]) } : {}),
    ...(values["pool-size"] !== undefined ? { poolSize: Number(values["pool-size"]) } : {}),
    ...(values["headers-timeout"] !== undefined ? { headersTimeoutMs: parseDuration(values["headers-timeout"], "--headers-timeout") } : {}),
    ...(values["request-timeout"] !== undefined ? { requestTimeoutMs: parseDuration(values["request-timeout"], "--request-timeout") } : {}),
    ...(values["max-connections"] !== undefined ? { maxConnections: Number(values["max-connections"]) } : {}),
    ...(values["records-max"] !== undefined ? { recordsMax: Number(values["records-max"]) } : {}),
    ...(values["records-rate"] !== undefined ? { recordsRate: Number(values["records-rate"]) } : {}),
    ...(values["otlp-endpoint"] !== undefined ? { otlpEndpoint: values["otlp-endpoint"] } : {}),
    ...(values["records-max-age"] !== undefined ? { recordsMaxAgeMs: parseDuration(values["records-max-age"], "--records-max-age") } : {}),
    ...(values.sandbox !== undefined ? { sandbox: values.sandbox as SandboxMode } : {}),
    // Checked, naming the flag, when the options are resolved.
    ...(values.limits !== undefined ? { limits: values.limits as LimitsMode } : {}),
    ...(values.metrics !== undefined ? { metrics: values.metrics } : {}),
    ...(values["metrics-port"] !== undefined ? { metricsPort: Number(values["metrics-port"]) } : {}),
    ...(values["metrics-auth"] !== undefined ? { metricsAuth: values["metrics-auth"] } : {}),
    ...(values.broker !== undefined ? { broker: values.broker } : {}),
    ...(values.cluster !== undefined ? { cluster: values.cluster } : {}),
    ...(values["cluster-name"] !== undefined ? { clusterName: values["cluster-name"] } : {}),
    ...(values["node-name"] !== undefined ? { nodeName: values["node-name"] } : {}),
    ...(values.replicas !== undefined ? { replicas: Number(values.replicas) } : {}),
    ...(values.runs !== undefined ? { runs: values.runs } : {}),
    ...(values.autoscaler !== undefined ? { autoscaler: values.autoscaler } : {}),
    ...(values["token-file"] !== undefined ? { tokenFile: values["token-file"] } : {}),
    ...(Object.values(nats).some((v) => v !== undefined) ? { nats } : {}),
    ...(values["max-body-bytes"] !== undefined ? { maxBodyBytes: parseSize(values["max-body-bytes"], "--max-body-bytes") } : {}),
  };
  const options = resolveDaemonOptions(given);
  const running = await runningDaemon(options.home);
  if (running !== undefined) {
    throw new RiffError("RIFF_DAEMON_ALREADY_RUNNING", `riff is already running at ${running.url} (pid ${running.pid})`, {
      hint: "stop it with `riff system stop`, or use another home with --home or RIFF_HOME",
    });
  }
  // A bug in one function's handling must not take every function down: log it loudly and
  // keep serving. The log and the offsets are transactional, so no half-done write survives.
  process.on("unhandledRejection", (err) => logger.error("unhandled rejection (a bug in riff)", { err: String(err), stack: (err as Error | undefined)?.stack }));
  process.on("uncaughtException", (err) => logger.error("uncaught exception (a bug in riff)", { err: String(err), stack: err.stack }));
  const daemon = new Daemon(given, logger);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info("signal received, stopping", { signal });
      void daemon.stop();
    });
  }
  const info = await daemon.start();
  report({ ok: true, info });
  await daemon.done;
  process.exit(0);
}

main().catch((err: unknown) => {
  const e = toRiffError(err);
  report({ ok: false, error: e.toJSON({ stack: true }) });
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: e.message, code: e.code, stack: e.stack })}\n`);
  process.exit(1);
});
