import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { RiffError, type Logger, type TelemetryHub } from "@riff/core";
import type { Broker } from "@riff/broker";
import type { FunctionView } from "@riff/controller";
import { guardServer, sendError, sendJson, serverOptions } from "@riff/gateway";
import { FastHistogram } from "./fast-metrics.js";
import { createHostCheck } from "./host-check.js";
import { listen } from "./listen.js";
import type { ResolvedMetricsOptions } from "./metrics-options.js";
import type { ResolvedDaemonOptions } from "./options.js";
import { registerScrapeMetrics } from "./scrape-metrics.js";
import { TelemetryMetrics } from "./telemetry-metrics.js";
import { checkBearer } from "./token.js";

/** Messages per write transaction of the embedded broker: 1 alone, hundreds under load. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
/** A write transaction, COMMIT and fsync included: tens of µs in memory, ms on a disk. */
const WRITE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** What the daemon's metrics read from. */
export interface DaemonMetricsOptions {
  /** Its host (a separate metrics port listens there too), HTTP limits and broker choice. */
  daemon: Pick<ResolvedDaemonOptions, "host" | "server" | "broker">;
  metrics: ResolvedMetricsOptions;
  telemetry: TelemetryHub;
  broker: Broker;
  functions(): Promise<FunctionView[]>;
  /** The admin token, asked for with `--metrics-auth token`. */
  token: string;
  version: string;
  logger: Logger;
}

/**
 * riff's Prometheus metrics: a registry of the daemon's own (tests run several daemons in one
 * process; prom-client's global one would mix them), filled from the telemetry hub, from the
 * broker's write transactions, and at scrape time from the functions and topics. Served at
 * `GET /metrics` on the daemon's port or on a port of its own.
 */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #o: DaemonMetricsOptions;
  readonly #checkHost: (host: string | undefined) => void;
  readonly #stops: (() => void)[] = [];
  #server: Server | undefined;

  constructor(o: DaemonMetricsOptions) {
    this.#o = o;
    this.#checkHost = createHostCheck(o.daemon.host);
    // The snapshot is made at the first scrape, after `events` exists.
    const events: TelemetryMetrics = new TelemetryMetrics(this.registry, () => snapshot());
    this.#stops.push(o.telemetry.subscribe(events));
    const snapshot = registerScrapeMetrics(this.registry, {
      broker: o.broker,
      functions: o.functions,
      retain: (functions, topics) => {
        events.retainFunctions(functions);
        if (topics !== undefined) events.retainTopics(topics);
      },
    });
    const info = new Gauge({ name: "riff_build_info", help: "Always 1: riff's version, the Node.js version it runs on, and its broker (embedded or nats).", labelNames: ["version", "node", "broker"], registers: [this.registry] });
    info.set({ version: o.version, node: process.version, broker: o.daemon.broker === "embedded" ? "embedded" : "nats" }, 1);
    if (o.broker.observeWrites !== undefined) {
      const common = { labelNames: [], registry: this.registry, settle: () => Promise.resolve() };
      const batch = new FastHistogram({ name: "riff_broker_write_batch_messages", help: "Messages the embedded broker appended in one write transaction (offset commits alone are not counted).", buckets: BATCH_BUCKETS, ...common }).labels({});
      const seconds = new FastHistogram({ name: "riff_broker_write_seconds", help: "Time of one write transaction of the embedded broker, COMMIT (and fsync, where durability asks for it) included.", buckets: WRITE_BUCKETS, ...common }).labels({});
      this.#stops.push(
        o.broker.observeWrites((messages, s) => {
          if (messages > 0) batch.observe(messages);
          seconds.observe(s);
        }),
      );
    }
    // Prometheus's standard names (process_*, nodejs_*), with no prefix.
    collectDefaultMetrics({ register: this.registry });
  }

  /** Answers `GET /metrics` and returns true; any other request is left to the caller. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    // Asked of every request on the daemon's port: a prefix test, not a split into new strings.
    const url = req.url ?? "";
    if (!url.startsWith("/metrics") || (url.length > 8 && url[8] !== "?")) return false;
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    void this.#answer(req, res);
    return true;
  }

  /** With a port of its own: listens on it and returns its URL; else the daemon's `url`. */
  async start(url: string): Promise<string> {
    const port = this.#o.metrics.port;
    if (port === undefined) return `${url}/metrics`;
    const server = createServer(serverOptions(this.#o.daemon.server), (req, res) => {
      if (this.serve(req, res)) return;
      sendJson(res, 404, { error: { code: "RIFF_NOT_FOUND", message: `nothing at ${req.url ?? "/"}`, hint: "this port serves GET /metrics only" } });
    });
    guardServer(server, this.#o.daemon.server, this.#o.logger.child({ component: "metrics" }));
    this.#server = server;
    await listen(server, port, this.#o.daemon.host, { port: "--metrics-port", example: "riff system start --metrics-port 9464" });
    const host = this.#o.daemon.host.includes(":") && !this.#o.daemon.host.startsWith("[") ? `[${this.#o.daemon.host}]` : this.#o.daemon.host;
    return `http://${host}:${(server.address() as AddressInfo).port}/metrics`;
  }

  /** Stops counting and closes the metrics port. */
  stop(): void {
    for (const stop of this.#stops.splice(0)) stop();
    this.#server?.close();
    this.#server?.closeAllConnections();
  }

  async #answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.#checkHost(req.headers.host);
      if (this.#o.metrics.auth === "token" && !checkBearer(req.headers.authorization, this.#o.token)) {
        throw new RiffError("RIFF_UNAUTHORIZED", "/metrics needs the admin token (riff was started with --metrics-auth token)", {
          hint: "send Authorization: Bearer <the token in the riff home's token file>; in Prometheus: authorization: { credentials_file: HOME/token }",
        });
      }
      const body = await this.registry.metrics();
      res.writeHead(200, { "content-type": this.registry.contentType, "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (err) {
      sendError(res, err);
    }
  }
}
