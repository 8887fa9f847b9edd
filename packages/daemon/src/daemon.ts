import { createServer, type Server } from "node:http";
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { DEAD_LETTER_TOPIC, RiffError, type Logger } from "@riff/core";
import { createNatsBroker } from "@riff/broker-nats";
import { createSqliteBroker, type Broker } from "@riff/broker";
import { createGateway, ReplyHub, sendJson } from "@riff/gateway";
import { builtinInvokers, detectSandbox } from "@riff/runtime";
import { createAdminApi } from "./admin-api.js";
import { Deployments } from "./deployments.js";
import { FunctionLogs } from "./function-logs.js";
import { FunctionStore } from "./function-store.js";
import { InvokerRegistry } from "./invoker-registry.js";
import { homePaths, resolveDaemonOptions, type DaemonOptions, type HomePaths, type ResolvedDaemonOptions } from "./options.js";
import { Scaler } from "./scaler.js";
import { ensureToken } from "./token.js";

/** What `daemon.json` in the home says about a running daemon; the CLI reads it. */
export interface DaemonInfo {
  pid: number;
  port: number;
  host: string;
  url: string;
  home: string;
  startedAt: string;
  version: string;
  /** How functions are isolated: `bwrap`, or `none` when bubblewrap is missing or off. */
  sandbox: string;
}

/** `created` -> `starting` -> `running` -> `stopping` -> `stopped`. */
export type DaemonState = "created" | "starting" | "running" | "stopping" | "stopped";

export const VERSION = "0.1.0";

/**
 * The composition root: the broker, the deployments, the gateway and the admin API on one
 * loopback port, and the scaling loop.
 */
export class Daemon {
  state: DaemonState = "created";
  readonly options: ResolvedDaemonOptions;
  readonly paths: HomePaths;
  private broker: Broker | undefined;
  private deployments: Deployments | undefined;
  private server: Server | undefined;
  private logs: FunctionLogs | undefined;
  private scaleTimer: NodeJS.Timeout | undefined;
  private scaler: Scaler | undefined;
  private scaling = false;
  private sandboxKind = "none";
  private readonly replies = new ReplyHub();
  private info: DaemonInfo | undefined;
  private wroteInfo = false;
  private restored = false;
  private readonly stopped: Promise<void>;
  private resolveStopped: () => void = () => {};

  constructor(options: DaemonOptions, private readonly logger: Logger) {
    this.options = resolveDaemonOptions(options);
    this.paths = homePaths(this.options.home);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
  }

  /** Resolves once the daemon has stopped (after {@link stop} or an admin shutdown). */
  get done(): Promise<void> {
    return this.stopped;
  }

  /** Starts everything; if any part fails, what did start is stopped again (the broker closed cleanly). */
  async start(): Promise<DaemonInfo> {
    this.state = "starting";
    try {
      return await this.startParts();
    } catch (err) {
      await this.stop().catch((stopErr: unknown) => this.logger.error("stopping after a failed start failed", { err: String(stopErr) }));
      throw err;
    }
  }

  private async startParts(): Promise<DaemonInfo> {
    const { home, port, host } = this.options;
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const token = ensureToken(this.paths.token);
    const brokerLogger = this.logger.child({ component: "broker" });
    // The embedded log in the home, or NATS JetStream under a prefix of this home's own, so
    // two homes on one server never see (or delete) each other's topics.
    this.broker =
      this.options.broker === "embedded"
        ? createSqliteBroker({ dir: this.paths.broker, logger: brokerLogger })
        : createNatsBroker({ servers: this.options.broker, prefix: natsPrefix(home), logger: brokerLogger });
    await this.broker.start();
    // The dead-letter topic always exists, so it can be watched before anything lands in it.
    await this.broker.ensureTopic(DEAD_LETTER_TOPIC);
    this.logs = new FunctionLogs(this.paths.logs);
    const invokers = new InvokerRegistry(this.paths.invokers, builtinInvokers);
    const sandbox = await detectSandbox(this.options.sandbox, home).catch((err: unknown) => {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `--sandbox bwrap: bubblewrap cannot run here: ${(err as Error).message}`, {
        hint: "install it (apt-get install bubblewrap), or start with --sandbox auto or none",
      });
    });
    // Pool folders of a previous run (a crash leaves them behind).
    rmSync(this.paths.pool, { recursive: true, force: true });
    this.sandboxKind = sandbox?.kind ?? "none";
    if (sandbox === undefined && this.options.sandbox === "auto") {
      this.logger.warn("functions run without a sandbox: bubblewrap is missing or cannot run here; they can read what the daemon's user can (apt-get install bubblewrap)");
    }
    this.deployments = new Deployments({
      broker: this.broker,
      store: new FunctionStore(this.paths.functions),
      logs: this.logs,
      replies: this.replies,
      invokers,
      logger: this.logger.child({ component: "deployments" }),
      maxHops: this.options.maxHops,
      sandbox,
      poolDir: this.paths.pool,
    });
    this.scaler = new Scaler(this.broker, this.logger.child({ component: "scaler" }));
    const gateway = createGateway({
      broker: this.broker,
      replies: this.replies,
      // Until the functions are restored, nobody can say no function reads a topic.
      hasReaders: (topic) => !this.restored || (this.deployments?.readersOf(topic).length ?? 0) > 0,
      logger: this.logger.child({ component: "gateway" }),
      ...(this.options.maxBodyBytes !== undefined ? { maxBodyBytes: this.options.maxBodyBytes } : {}),
      ...(this.options.replyTimeoutMs !== undefined ? { replyTimeoutMs: this.options.replyTimeoutMs } : {}),
    });
    const admin = createAdminApi({
      token,
      broker: this.broker,
      deployments: this.deployments,
      logs: this.logs,
      logger: this.logger.child({ component: "admin" }),
      status: () => ({ ...this.info, state: this.state, uptimeMs: process.uptime() * 1000, sandbox: this.sandboxKind, broker: this.options.broker }),
      shutdown: () => void this.stop(),
      invokers,
      scaler: this.scaler,
    });
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      if (gateway(req, res) || admin(req, res)) return;
      if (req.url === "/healthz") return sendJson(res, 200, { status: "ok", pid: process.pid });
      sendJson(res, 404, { error: { code: "RIFF_NOT_FOUND", message: `nothing at ${req.url ?? "/"}`, hint: "POST to /messages/TOPIC or /requests/TOPIC" } });
    });
    this.server = server;
    await listen(server, port, host);
    const bound = (server.address() as AddressInfo).port;
    process.env["RIFF_GATEWAY_URL"] = `http://${host}:${bound}`;
    for (const invoker of builtinInvokers.values()) {
      invoker.start?.({ poolSize: this.options.poolSize, logger: this.logger.child({ component: "pool", invoker: invoker.name }), sandbox, poolDir: this.paths.pool });
    }
    await this.deployments.restore();
    this.restored = true;
    this.info = {
      pid: process.pid,
      port: bound,
      host,
      url: `http://${host}:${bound}`,
      home,
      startedAt: new Date().toISOString(),
      version: VERSION,
      sandbox: this.sandboxKind,
    };
    writeFileSync(this.paths.daemonInfo, `${JSON.stringify(this.info, null, 2)}\n`);
    writeFileSync(this.paths.brokerChoice, `${this.options.broker}\n`);
    this.wroteInfo = true;
    this.scaleTimer = setInterval(() => void this.scale(), this.options.scaleIntervalMs);
    this.state = "running";
    this.logger.info("riff daemon running", { url: this.info.url, home });
    return this.info;
  }

  /** Stops intake, drains the functions, closes the broker. */
  async stop(): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return this.stopped;
    this.state = "stopping";
    clearInterval(this.scaleTimer);
    this.server?.close();
    this.server?.closeIdleConnections();
    await this.deployments?.stop();
    await Promise.all([...builtinInvokers.values()].map((i) => i.stop?.()));
    this.replies.rejectAll(new RiffError("RIFF_SHUTTING_DOWN", "the riff daemon is stopping"));
    await this.broker?.stop();
    this.logs?.close();
    this.server?.closeAllConnections();
    // Only our own: after a failed start the file may be another daemon's.
    if (this.wroteInfo) rmSync(this.paths.daemonInfo, { force: true });
    this.state = "stopped";
    this.logger.info("riff daemon stopped");
    this.resolveStopped();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async scale(): Promise<void> {
    if (this.scaling || this.deployments === undefined) return;
    this.scaling = true;
    try {
      await this.scaler?.tick(this.deployments.runners.values());
    } finally {
      this.scaling = false;
    }
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") {
        reject(new RiffError("RIFF_PORT_IN_USE", `port ${port} on ${host} is already in use`, {
          hint: "stop what uses it, or start riff on another port: riff system start --port 8081",
        }));
      } else reject(err);
    });
    server.listen(port, host, () => resolve());
  });
}

/** The NATS prefix of a riff home: `riff-` and 8 hex digits of its path's hash. */
export function natsPrefix(home: string): string {
  return `riff-${createHash("sha256").update(home).digest("hex").slice(0, 8)}`;
}
