import { createServer, type RequestListener, type Server } from "node:http";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { DEAD_LETTER_TOPIC, DEFAULT_MEMORY_BYTES, DEFAULT_PIDS, RiffError, TelemetryHub, type Logger } from "@riff/core";
import type { Broker } from "@riff/broker";
import { KeyRing } from "@riff/controller";
import { createGateway, guardServer, refuseWithoutHost, ReplyHub, sendError, sendJson, serverOptions } from "@riff/gateway";
import { builtinInvokers, CallerRegistry, detectLimiter, detectSandbox } from "@riff/runtime";
import { Dashboard } from "@riff/dashboard";
import { createAdminApi } from "./admin-api.js";
import { listen } from "./listen.js";
import { dashboardRoutes } from "./dashboard-api.js";
import { dashboardSources } from "./dashboard-sources.js";
import { createHostCheck } from "./host-check.js";
import { clusterMode } from "./cluster-mode.js";
import { wireController, type ControllerParts } from "./controller-parts.js";
import { localMode } from "./local-mode.js";
import type { Mode } from "./mode.js";
import { homePaths, resolveDaemonOptions, type DaemonOptions, type HomePaths, type ResolvedDaemonOptions } from "./options.js";
import { fromReplica, replicaRequests } from "./caller-path.js";
import { keyRoutes } from "./keys-api.js";
import { artifactRoutes } from "./artifacts-api.js";
import { secretRoutes } from "./secrets-api.js";
import { ensureToken, readTokenFile } from "./token.js";
import { placingFor, runsLabel } from "./node-role.js";
import { DaemonMetrics } from "./daemon-metrics.js";
import { startTelemetry, type TelemetryParts } from "./telemetry-parts.js";
import { ensureOwnTopic } from "./own-topics.js";
import { recordRoutes } from "./records-api.js";

export { natsPrefix } from "./local-mode.js";

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
  /** Where Prometheus scrapes riff; absent when metrics are off. */
  metricsUrl?: string;
  /** The admin token's file when it is not the home's (`--token-file`); the CLI reads it there. */
  tokenFile?: string;
  /** What this start tells its user (`riff system start` prints each as a note). */
  notes?: string[];
}

/** `created` -> `starting` -> `running` -> `stopping` -> `stopped`. */
export type DaemonState = "created" | "starting" | "running" | "stopping" | "stopped";

export const VERSION = "0.1.0";

/**
 * The composition root: a mode (alone, or a node of a cluster) supplies the broker and the
 * stores; the daemon wires the controller (reconciler, runners, autoscaler), the gateway and
 * the admin API on one port, and stops them in order.
 */
export class Daemon {
  state: DaemonState = "created";
  readonly options: ResolvedDaemonOptions;
  readonly paths: HomePaths;
  private mode: Mode | undefined;
  private parts: ControllerParts | undefined;
  private sinks: TelemetryParts | undefined;
  private server: Server | undefined;
  private metrics: DaemonMetrics | undefined;
  private dashboard: Dashboard | undefined;
  private sandboxKind = "none";
  private limits = "none";
  private readonly replies = new ReplyHub();
  /** Every invocation, request, cold start and scaling decision, fanned out to metrics, records and the dashboard. */
  readonly telemetry = new TelemetryHub();
  private info: DaemonInfo | undefined;
  private wroteInfo = false;
  private restored = false;
  private readonly stopped: Promise<void>;
  /**
   * Aborts as the stop begins: the watches it ends (keys, rates, invokers) end before the
   * connection under them closes, rather than fail on it and warn.
   */
  private readonly stopping = new AbortController();
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
    // Before anything starts: without a sandbox (unless asked for none) riff does not run at all.
    const sandbox = await detectSandbox(this.options.sandbox, { state: join(home, "sandbox"), hidden: home });
    const limiter = detectLimiter(this.logger, this.options.limits, { sandboxed: sandbox !== undefined, uid: sandbox?.uid });
    const callers = new CallerRegistry();
    this.sandboxKind = sandbox === undefined ? "none" : `${sandbox.kind} (uid ${sandbox.uid})`;
    this.limits = limiter.enforcement;
    if (sandbox === undefined) this.logger.warn("functions run unsandboxed (--sandbox none): they can read and write what the daemon's user can");
    // The port before the cluster: a start that cannot have it fails before it joins (and
    // takes the cluster's admin token into a new home). Until the parts are wired, every
    // request is told the daemon is starting.
    let handle: RequestListener = (_req, res) => sendError(res, new RiffError("RIFF_STARTING", "riff is starting", { hint: "retry in a moment" }));
    const server = createServer({ keepAliveTimeout: 65_000, ...serverOptions(this.options.server) }, (req, res) => handle(req, res));
    guardServer(server, this.options.server, this.logger.child({ component: "http" }));
    this.server = server;
    await listen(server, port, host, { port: "--port", example: "riff system start --port 8081" });
    const modeOptions = { options: this.options, paths: this.paths, hub: this.replies, token: this.options.tokenFile === undefined ? ensureToken(this.paths.token) : readTokenFile(this.options.tokenFile), logger: this.logger };
    const mode = this.options.cluster === undefined ? await localMode(modeOptions) : await clusterMode(modeOptions);
    this.mode = mode;
    const { broker } = mode;
    // It always exists, so it can be watched before anything lands in it.
    await ensureOwnTopic(broker, DEAD_LETTER_TOPIC, {}, this.logger);
    this.sinks = await startTelemetry({ broker, options: this.options, hub: this.telemetry, node: mode.replyNode, version: VERSION, logger: this.logger });
    // Pool folders and half-stored uploads of a previous run (a crash leaves them behind).
    rmSync(this.paths.pool, { recursive: true, force: true });
    rmSync(this.paths.uploads, { recursive: true, force: true });
    const parts = await wireController({
      options: this.options,
      paths: this.paths,
      broker,
      stores: mode.stores,
      placing: placingFor(this.options.runs, mode.placing),
      replies: mode.replies,
      logs: mode.logs,
      sandbox,
      limiter,
      callers,
      telemetry: this.telemetry,
      node: mode.replyNode,
      logger: this.logger,
    });
    this.parts = parts;
    const keys = new KeyRing(mode.stores.keys, mode.token, this.logger.child({ component: "keys" }));
    keys.start(this.stopping.signal);
    parts.rates.start(this.stopping.signal);
    const gateway = createGateway({
      // riff's own functions publish through their replica's path and need no key.
      authorize: (req, topic) => {
        if (!replicaRequests.has(req)) keys.check(topic, req.headers.authorization);
        // A topic's rate holds for every caller of the gateway, functions and the admin token included.
        parts.rates.check(topic);
      },
      broker,
      replies: this.replies,
      telemetry: this.telemetry,
      ...(this.sinks.sample !== undefined ? { sample: this.sinks.sample } : {}),
      // Until the functions are known, nobody can say no function reads a topic.
      hasReaders: (topic) => !this.restored || parts.catalog.readersOf(topic).length > 0,
      logger: this.logger.child({ component: "gateway" }),
      ...(mode.replyNode !== undefined ? { replyNode: mode.replyNode } : {}),
      ...(this.options.maxBodyBytes !== undefined ? { maxBodyBytes: this.options.maxBodyBytes } : {}),
      ...(this.options.replyTimeoutMs !== undefined ? { replyTimeoutMs: this.options.replyTimeoutMs } : {}),
    });
    const status = () => ({ ...this.info, state: this.state, uptimeMs: process.uptime() * 1000, sandbox: this.sandboxKind, limits: this.limits, runs: runsLabel(this.options.runs), autoscaler: this.options.autoscaler ? "on" : "off", ...mode.status() });
    const warnings = async () => [
      ...(sandbox === undefined ? ["functions run unsandboxed: riff was started with --sandbox none (see docs/security.md)"] : []),
      ...mode.warnings(),
      ...(await unrecordedWarnings(broker)),
    ];
    const views = mode.views(parts);
    const logs = mode.logSource(parts);
    const dashboard = new Dashboard({
      sources: dashboardSources({ broker, catalog: parts.catalog, views, logs, invokers: parts.invokers, telemetry: this.telemetry, status, warnings, nodes: mode.nodes?.bind(mode), records: this.sinks.records }),
      secret: mode.token,
      checkHost: createHostCheck(host),
      logger: this.logger.child({ component: "dashboard" }),
    });
    this.dashboard = dashboard;
    const metrics = this.options.metrics === undefined ? undefined : new DaemonMetrics({ daemon: this.options, metrics: this.options.metrics, telemetry: this.telemetry, broker, functions: () => views.list(), token: mode.token, version: VERSION, logger: this.logger });
    this.metrics = metrics;
    // With --metrics-port, /metrics is there only: this port answers it 404.
    const metricsHere = this.options.metrics?.port === undefined ? metrics : undefined;
    const admin = createAdminApi({
      token: mode.token,
      host,
      home,
      broker,
      deployer: parts.deployer,
      catalog: parts.catalog,
      views,
      logs,
      logger: this.logger.child({ component: "admin" }),
      status,
      shutdown: () => void this.stop(),
      invokers: parts.invokers,
      scaler: parts.scaler,
      rates: parts.rates,
      routes: [...mode.routes(), ...secretRoutes(mode.stores.secrets), ...keyRoutes(mode.stores.keys), ...recordRoutes(this.sinks.records, broker, (fn) => parts.catalog.get(fn) !== undefined), ...artifactRoutes({ artifacts: mode.stores.artifacts, uploads: this.paths.uploads }), ...dashboardRoutes(dashboard, () => this.info?.url)],
      warnings,
    });
    /** Where /metrics is served, once it is (this port, or --metrics-port's). */
    let metricsUrl: string | undefined;
    handle = (req, res) => {
      if (refuseWithoutHost(req, res)) return;
      if (!fromReplica(req, res, callers)) return;
      if (metricsHere?.serve(req, res) === true || gateway(req, res) || admin(req, res) || dashboard.handle(req, res)) return;
      if (req.url === "/healthz") return mode.healthz(req, res);
      // With --metrics-port, a scrape of this port is pointed there.
      const hint = metricsUrl !== undefined && metricsHere === undefined && req.url?.startsWith("/metrics") === true ? `riff's metrics are at ${metricsUrl} (--metrics-port)` : "POST to /messages/TOPIC or /requests/TOPIC";
      sendJson(res, 404, { error: { code: "RIFF_NOT_FOUND", message: `nothing at ${req.url ?? "/"}`, hint } });
    };
    const bound = (server.address() as AddressInfo).port;
    metricsUrl = await metrics?.start(`http://${host}:${bound}`);
    process.env["RIFF_GATEWAY_URL"] = `http://${host}:${bound}`;
    // Pooled processes get riff's default limits, and their function's once one takes them.
    const confinement = { sandbox, limiter, limits: { memoryBytes: DEFAULT_MEMORY_BYTES, pids: DEFAULT_PIDS, cpu: undefined }, network: "host" as const };
    for (const invoker of builtinInvokers.values()) {
      invoker.start?.({ poolSize: this.options.poolSize, logger: this.logger.child({ component: "pool", invoker: invoker.name }), confinement, poolDir: this.paths.pool });
    }
    void parts.invokers.follow(this.stopping.signal);
    await parts.reconciler.start();
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
      ...(metricsUrl !== undefined ? { metricsUrl } : {}),
      ...(this.options.tokenFile !== undefined ? { tokenFile: this.options.tokenFile } : {}),
      ...(this.options.notes.length > 0 ? { notes: this.options.notes } : {}),
    };
    writeFileSync(this.paths.daemonInfo, `${JSON.stringify(this.info, null, 2)}\n`);
    this.wroteInfo = true;
    mode.start(parts, this.info);
    dashboard.start();
    this.state = "running";
    for (const note of this.options.notes) this.logger.warn(note);
    this.logger.info("riff daemon running", { url: this.info.url, home, ...(this.options.cluster === undefined ? {} : { cluster: this.options.cluster.name, node: this.options.cluster.node }) });
    return this.info;
  }

  /** Stops intake, lets the functions finish what they hold (handing partitions over), leaves, closes the broker. */
  async stop(): Promise<void> {
    if (this.state === "stopping" || this.state === "stopped") return this.stopped;
    this.state = "stopping";
    this.stopping.abort();
    this.dashboard?.stop();
    this.server?.close();
    this.server?.closeIdleConnections();
    this.metrics?.stop();
    await this.parts?.reconciler.stop();
    await this.parts?.host.stop();
    await Promise.all([...builtinInvokers.values()].map((i) => i.stop?.()));
    this.replies.rejectAll(new RiffError("RIFF_SHUTTING_DOWN", "the riff daemon is stopping"));
    await this.sinks?.stop();
    await this.mode?.stop();
    this.parts?.logs.close();
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
}

/**
 * A topic whose record was lost keeps its messages, but a process that did not have it open
 * refuses it (RIFF_TOPIC_UNRECORDED): it neither reads it nor stores results in it, which wait.
 * Said with `riff list` until the user recovers or deletes it. When the broker cannot be asked
 * (NATS away), the mode's own warning says so.
 */
async function unrecordedWarnings(broker: Broker): Promise<string[]> {
  const topics = (await broker.unrecordedTopics?.().catch(() => [])) ?? [];
  if (topics.length === 0) return [];
  const names = topics.map((t) => `'${t.name}'`).join(", ");
  const messages = topics.reduce((sum, t) => sum + t.messages, 0);
  return [
    `riff lost the record of topic ${names} (${messages} messages kept in NATS): riff processes started since refuse to read or write it, and results bound for it wait; take it back with: riff topics recover --all (or delete it: riff topics delete NAME)`,
  ];
}

