import type { Logger } from "@riff/core";
import { RiffError, silentLogger } from "@riff/core";
import { REPLICA_COUNTS } from "@riff/broker/kit";
import { nuid } from "nats";
import type { NatsAuth } from "./connection.js";
import type { GroupTiming } from "./group-coordinator.js";

/** @default "nats://127.0.0.1:4222": a local nats-server started with `-js`. */
export const DEFAULT_NATS_SERVERS = "nats://127.0.0.1:4222";
/**
 * @default "riff": first part of every stream, subject and KV bucket name, so several riff
 * installations (or test runs) can share one NATS server without seeing each other.
 */
export const DEFAULT_NATS_PREFIX = "riff";
/** @default 5 s to connect, and to wait for any one JetStream API answer. */
export const DEFAULT_NATS_TIMEOUT_MS = 5_000;
/**
 * Largest message riff accepts, as on the SQLite broker: 1 MiB of payload plus 64 KiB for key
 * and headers. The server's own `max_payload` (1 MiB by default) caps it further; see docs.
 */
export const DEFAULT_NATS_MAX_MESSAGE_BYTES = 1024 * 1024 + 64 * 1024;
/** @default 1024 messages read ahead per partition a member owns, before reading pauses. */
export const DEFAULT_READ_AHEAD = 1024;
/**
 * @default 15 s: how long a publish that may still pass (no ack in time, no stream leader during
 * an election, JetStream "temporarily unavailable") is retried, with the same message id, before
 * it fails. Covers a stream leader election on a cluster (4-9 s on nats-server 2.9, measured up
 * to 8 s here); a lost connection fails at once instead (RIFF_BROKER_UNAVAILABLE).
 */
export const DEFAULT_PUBLISH_RETRY_MS = 15_000;
/**
 * @default 2 s: how long one publish attempt waits for JetStream's ack before it counts as lost
 * and is retried. Shorter than `timeoutMs`, so a message lost with a failed server is sent again
 * within the retry budget.
 */
export const DEFAULT_PUBLISH_ACK_TIMEOUT_MS = 2_000;
/** @default 4096 publishes sent and not yet acknowledged, per broker; later ones wait for room. */
export const DEFAULT_PUBLISH_WINDOW = 4096;

/** Options of {@link createNatsBroker}. Every field is optional. */
export interface NatsBrokerOptions {
  /** One URL or several, comma-separated or as an array. @default DEFAULT_NATS_SERVERS */
  servers?: string | string[];
  /** Letters, digits and '-'; see {@link DEFAULT_NATS_PREFIX}. @default DEFAULT_NATS_PREFIX */
  prefix?: string;
  /** @default DEFAULT_NATS_TIMEOUT_MS */
  timeoutMs?: number;
  /** @default DEFAULT_NATS_MAX_MESSAGE_BYTES */
  maxMessageBytes?: number;
  /** @default DEFAULT_READ_AHEAD */
  readAhead?: number;
  /**
   * Copies of each topic's messages (and of the broker's KV bucket) when a topic does not say:
   * 1 or 3. @default 3 when the NATS servers form a cluster of 3 or more, else 1 (found at start).
   */
  replicas?: number;
  /** @default DEFAULT_PUBLISH_RETRY_MS */
  publishRetryMs?: number;
  /** @default DEFAULT_PUBLISH_ACK_TIMEOUT_MS */
  publishAckTimeoutMs?: number;
  /** @default DEFAULT_PUBLISH_WINDOW */
  publishWindow?: number;
  /**
   * This instance's name among those sharing the prefix (a riff node's name); it owns the
   * partitions it claims under it. A random part is added, so a restarted instance is a new
   * one and never takes a lease its predecessor left for its own. @default a random id
   */
  instance?: string;
  /** Credentials and TLS for NATS. @default none (or what the URLs carry) */
  auth?: NatsAuth;
  /** Timing of partition leases and group membership. @default DEFAULT_GROUP_TIMING */
  groupTiming?: Partial<GroupTiming>;
  /** @default silentLogger */
  logger?: Logger;
}

/** {@link NatsBrokerOptions} with every default applied. */
export interface ResolvedNatsBrokerOptions {
  servers: string[];
  prefix: string;
  timeoutMs: number;
  maxMessageBytes: number;
  readAhead: number;
  /** Undefined: resolved from the cluster at start. */
  replicas: number | undefined;
  publishRetryMs: number;
  publishAckTimeoutMs: number;
  publishWindow: number;
  instance: string;
  auth: NatsAuth;
  groupTiming: Partial<GroupTiming>;
  logger: Logger;
}

/** No '.', '_', '*' or '>': the prefix is a subject token and must not run into the topic name. */
const PREFIX = /^[A-Za-z0-9-]{1,32}$/;

/** Applies the defaults and checks the values. Pure: never mutates `options`. */
export function resolveNatsBrokerOptions(options: NatsBrokerOptions = {}): ResolvedNatsBrokerOptions {
  const raw = options.servers ?? DEFAULT_NATS_SERVERS;
  const servers = (Array.isArray(raw) ? raw : raw.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  if (servers.length === 0) throw badOption("servers", "at least one NATS URL");
  const prefix = options.prefix ?? DEFAULT_NATS_PREFIX;
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw badOption("prefix", "1 to 32 letters, digits or '-'", prefix);
  }
  return {
    servers,
    prefix,
    timeoutMs: positive("timeoutMs", options.timeoutMs, DEFAULT_NATS_TIMEOUT_MS),
    maxMessageBytes: positive("maxMessageBytes", options.maxMessageBytes, DEFAULT_NATS_MAX_MESSAGE_BYTES),
    readAhead: positive("readAhead", options.readAhead, DEFAULT_READ_AHEAD),
    replicas: replicaCount(options.replicas),
    publishRetryMs: positive("publishRetryMs", options.publishRetryMs, DEFAULT_PUBLISH_RETRY_MS),
    publishAckTimeoutMs: positive("publishAckTimeoutMs", options.publishAckTimeoutMs, DEFAULT_PUBLISH_ACK_TIMEOUT_MS),
    publishWindow: positive("publishWindow", options.publishWindow, DEFAULT_PUBLISH_WINDOW),
    instance: instanceId(options.instance),
    auth: options.auth ?? {},
    groupTiming: options.groupTiming ?? {},
    logger: options.logger ?? silentLogger,
  };
}

/** `<name>-<random>`: a subject token and a KV value part, unique for this run of the instance. */
function instanceId(name: string | undefined): string {
  if (name !== undefined && !/^[A-Za-z0-9-]{1,63}$/.test(name)) throw badOption("instance", "1 to 63 letters, digits or '-'", name);
  const random = nuid.next().slice(-8).toLowerCase();
  return name === undefined ? random : `${name}-${random}`;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw badOption(name, "a positive integer", value);
  return value;
}

function replicaCount(value: number | undefined): number | undefined {
  if (value === undefined || REPLICA_COUNTS.includes(value)) return value;
  throw badOption("replicas", "1 or 3 (3 needs a NATS cluster of at least 3 servers)", value);
}

function badOption(name: string, expected: string, got?: unknown): RiffError {
  const suffix = got === undefined ? "" : `, got ${JSON.stringify(got)}`;
  return new RiffError("RIFF_INVALID_ARGUMENT", `NATS broker option ${name} must be ${expected}${suffix}`);
}
