import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeRow } from "@riff/core";
import type { Broker } from "@riff/broker";
import type { FunctionViews } from "@riff/controller";
import type { ReplySink } from "@riff/runtime";
import type { LogSource, Route } from "./admin-api.js";
import type { ControllerParts, Placing, Stores } from "./controller-parts.js";
import type { FunctionLogs } from "./function-logs.js";

/** What the daemon says about itself once it listens. */
export interface StartedInfo {
  url: string;
  version: string;
  startedAt: string;
}

/**
 * How the daemon runs: alone (its home's files, its own autoscaler) or as a node of a cluster
 * (NATS KV and object store, heartbeats, a leader). The daemon wires the same controller,
 * gateway and admin API in both; a mode supplies what differs.
 */
export interface Mode {
  broker: Broker;
  stores: Stores;
  placing: Placing;
  replies: ReplySink;
  logs: FunctionLogs;
  /** The admin token every request must carry. */
  token: string;
  /** Set in a cluster: `/requests` messages name this node so replies find their way. */
  replyNode?: string;
  views(parts: ControllerParts): FunctionViews;
  logSource(parts: ControllerParts): LogSource;
  /** The cluster's nodes, for the dashboard; absent on a single daemon. */
  nodes?(): NodeRow[];
  /** Extra admin routes. */
  routes(): Route[];
  /** What `riff system status` adds. */
  status(): Record<string, unknown>;
  /** What is wrong now (NATS unreachable), for `riff list`. */
  warnings(): string[];
  /** Answers `/healthz`: 200 when this node can serve, 503 with why when it cannot. */
  healthz(req: IncomingMessage, res: ServerResponse): void;
  /** Everything is wired and listening: start the loops. */
  start(parts: ControllerParts, info: StartedInfo): void;
  /** After the runners stopped: leave and close. */
  stop(): Promise<void>;
}
