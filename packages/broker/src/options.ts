import type { Logger } from "@riff/core";
import { RiffError, silentLogger } from "@riff/core";

/**
 * Largest message accepted by default: 1 MiB of payload plus 64 KiB of slack for the key and
 * headers, so a function may publish a full 1 MiB body with its headers.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 64 * 1024;
/** @default 30 s between retention sweeps. */
export const DEFAULT_RETENTION_CHECK_INTERVAL_MS = 30_000;
/**
 * Recent messages kept in memory per topic (split evenly among its partitions) so that caught-up
 * consumers are served without reading SQLite back. Bounded by count and by payload bytes,
 * whichever is hit first; a consumer further behind reads SQLite. 2048, not the 8192 it was: every
 * busy topic keeps its cache full, a cached message and its headers are live objects on the
 * daemon's V8 heap, and V8 sizes the heap to a multiple of what is live (docs/performance.md,
 * "Memory"); a caught-up consumer is a batch or two behind (1000 messages in `npm run
 * bench:broker`), well within 2048.
 */
export const DEFAULT_TAIL_CACHE_MESSAGES = 2048;
/** @default 8 MiB of recent payloads kept in memory per topic. */
export const DEFAULT_TAIL_CACHE_BYTES = 8 * 1024 * 1024;
/**
 * After an unclean shutdown, topic files up to this size get `PRAGMA quick_check` at start; larger
 * ones would delay start by seconds, so they only get the cheap offset checks.
 */
export const DEFAULT_QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/** Options of {@link createSqliteBroker}. */
export interface SqliteBrokerOptions {
  /** Folder holding one SQLite file per topic; created if missing. */
  dir: string;
  /** @default silentLogger */
  logger?: Logger;
  /** Largest message (payload + key + encoded headers) accepted. @default DEFAULT_MAX_MESSAGE_BYTES */
  maxMessageBytes?: number;
  /** Period of the retention sweep; 0 disables the timer. @default DEFAULT_RETENTION_CHECK_INTERVAL_MS */
  retentionCheckIntervalMs?: number;
  /** Recent messages kept in memory per topic; 0 disables. @default DEFAULT_TAIL_CACHE_MESSAGES */
  tailCacheMessages?: number;
  /** Recent payload bytes kept in memory per topic. @default DEFAULT_TAIL_CACHE_BYTES */
  tailCacheBytes?: number;
  /** @default DEFAULT_QUICK_CHECK_MAX_BYTES */
  quickCheckMaxBytes?: number;
}

/** {@link SqliteBrokerOptions} with every default applied. */
export interface ResolvedSqliteBrokerOptions {
  dir: string;
  logger: Logger;
  maxMessageBytes: number;
  retentionCheckIntervalMs: number;
  tailCacheMessages: number;
  tailCacheBytes: number;
  quickCheckMaxBytes: number;
}

/** Applies the defaults and checks the numbers. Pure: never mutates `options`. */
export function resolveSqliteBrokerOptions(
  options: SqliteBrokerOptions,
): ResolvedSqliteBrokerOptions {
  if (typeof options?.dir !== "string" || options.dir === "") {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "the broker needs a data folder (dir)", {
      hint: "pass createSqliteBroker({ dir: '/path/to/data' })",
    });
  }
  return {
    dir: options.dir,
    logger: options.logger ?? silentLogger,
    maxMessageBytes: positive(
      "maxMessageBytes",
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
    ),
    retentionCheckIntervalMs: positive(
      "retentionCheckIntervalMs",
      options.retentionCheckIntervalMs,
      DEFAULT_RETENTION_CHECK_INTERVAL_MS,
      true,
    ),
    tailCacheMessages: positive(
      "tailCacheMessages",
      options.tailCacheMessages,
      DEFAULT_TAIL_CACHE_MESSAGES,
      true,
    ),
    tailCacheBytes: positive(
      "tailCacheBytes",
      options.tailCacheBytes,
      DEFAULT_TAIL_CACHE_BYTES,
      true,
    ),
    quickCheckMaxBytes: positive(
      "quickCheckMaxBytes",
      options.quickCheckMaxBytes,
      DEFAULT_QUICK_CHECK_MAX_BYTES,
      true,
    ),
  };
}

function positive(
  name: string,
  value: number | undefined,
  fallback: number,
  zeroOk = false,
): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
    throw new RiffError(
      "RIFF_INVALID_ARGUMENT",
      `broker option ${name} must be a ${zeroOk ? "non-negative" : "positive"} number, got ${String(value)}`,
    );
  }
  return value;
}
