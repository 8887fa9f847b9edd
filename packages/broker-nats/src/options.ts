import type { Logger } from "@riff/core";
import { RiffError, silentLogger } from "@riff/core";

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
    logger: options.logger ?? silentLogger,
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw badOption(name, "a positive integer", value);
  return value;
}

function badOption(name: string, expected: string, got?: unknown): RiffError {
  const suffix = got === undefined ? "" : `, got ${JSON.stringify(got)}`;
  return new RiffError("RIFF_INVALID_ARGUMENT", `NATS broker option ${name} must be ${expected}${suffix}`);
}
