import type { RiffError } from "@riff/core";

/** @default 500 ms: the backoff before the first retry; each next one doubles it. */
export const DEFAULT_RETRY_BASE_MS = 500;
/** @default 60000 ms: the longest backoff between two runs of a message. */
export const DEFAULT_RETRY_MAX_MS = 60_000;
/** The error class, in any language, that tells riff not to run a message again. */
export const NON_RETRIABLE_NAME = "NonRetriableError";
/**
 * The exit code by which a command function says the same: 65, `EX_DATAERR` of sysexits(3),
 * "the input data was incorrect", which running it again will not change.
 */
export const NON_RETRIABLE_EXIT_CODE = 65;
/**
 * Failures that come out the same however often the message runs: its content type or accept
 * header cannot be served, or it is too large.
 */
const NEVER_HEALS = new Set<string>(["RIFF_CONTENT_TYPE_UNSUPPORTED", "RIFF_ACCEPT_UNSUPPORTED", "RIFF_MESSAGE_TOO_LARGE"]);

/**
 * The wait before run `failures + 1` of a message that failed `failures` times: the base
 * doubled per failure, capped, with "equal jitter" (half fixed, half random) so that messages
 * that failed together (a database down) do not all come back at the same instant, while
 * none comes back at once.
 */
export function backoffMs(failures: number, o: { baseMs?: number; maxMs?: number } = {}, random: () => number = Math.random): number {
  const base = o.baseMs ?? DEFAULT_RETRY_BASE_MS;
  const max = o.maxMs ?? DEFAULT_RETRY_MAX_MS;
  const full = Math.min(max, base * 2 ** Math.max(0, failures - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** Whether running the message again may help: not when the function said so (`NonRetriableError`). */
export function isRetriable(err: RiffError): boolean {
  if (err.details?.["name"] === NON_RETRIABLE_NAME) return false;
  return !NEVER_HEALS.has(err.code);
}

/** The failures of one message so far, as its dead letter reports them. */
export interface FailureRecord {
  /** Runs of the message that failed. */
  failures: number;
  firstFailureAt: number;
  lastFailureAt: number;
}

/** Per message (`topic/partition@offset`), its failures so far; forgotten once it is settled. */
export class FailureBook {
  private readonly records = new Map<string, FailureRecord>();

  /** Counts one more failure of message `id`, at `now`. */
  record(id: string, now: number = Date.now()): FailureRecord {
    const before = this.records.get(id);
    const next = before === undefined ? { failures: 1, firstFailureAt: now, lastFailureAt: now } : { ...before, failures: before.failures + 1, lastFailureAt: now };
    this.records.set(id, next);
    return next;
  }

  get(id: string): FailureRecord | undefined {
    return this.records.get(id);
  }

  forget(id: string): void {
    this.records.delete(id);
  }

  clear(): void {
    this.records.clear();
  }
}
