import { RiffError } from "@riff/core";
import { isLoopback } from "./host-check.js";

/** Who may read `/metrics`: anyone who reaches it, or only callers with the admin token. */
export type MetricsAuth = "none" | "token";

/** The daemon's metrics flags, as given. */
export interface MetricsOptions {
  /** `on` or `off` (`riff system start --no-metrics`): off serves no /metrics and counts nothing. @default "on" */
  metrics?: string;
  /** A port of its own for /metrics, on the daemon's host; 0 picks a free one. @default the daemon's port */
  metricsPort?: number;
  /** @default "none" when the daemon listens on loopback, "token" otherwise */
  metricsAuth?: string;
}

/** Metrics after defaults; the daemon's `metrics` is undefined when they are off. */
export interface ResolvedMetricsOptions {
  /** Undefined: served on the daemon's own port. */
  port: number | undefined;
  auth: MetricsAuth;
}

/**
 * Applies the metrics defaults for a daemon listening on `host`. Open on loopback, where only
 * this machine's users reach it (as the gateway is); elsewhere the admin token is asked for,
 * since the metrics name every function and topic.
 */
export function resolveMetricsOptions(options: MetricsOptions, host: string, daemonPort: number): ResolvedMetricsOptions | undefined {
  const on = options.metrics ?? "on";
  if (on === "off") return undefined;
  if (on !== "on") {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--metrics ${on}: must be on or off`, {
      hint: "riff serves Prometheus metrics at /metrics unless started with --no-metrics (or --metrics off)",
    });
  }
  const auth = options.metricsAuth ?? (isLoopback(host.replace(/^\[|\]$/g, "")) ? "none" : "token");
  if (auth !== "none" && auth !== "token") {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--metrics-auth ${auth}: must be none or token`, {
      hint: "token asks scrapers for the admin token (Authorization: Bearer, from the riff home's token file); none lets anyone who reaches the port read /metrics",
    });
  }
  const port = options.metricsPort;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--metrics-port ${port}: must be a whole number from 0 to 65535`, {
      hint: "riff system start --metrics-port 9464 (0 picks a free one; leave it out to serve /metrics on the daemon's port)",
    });
  }
  // The daemon's own port, named again: one listener, not two on one port.
  return { port: port === daemonPort && port !== 0 ? undefined : port, auth };
}
