import { setTimeout as sleep } from "node:timers/promises";
import { toRiffError, type RiffError } from "@riff/core";

/** Longest wait between two tries of writing a result. */
const RESULT_RETRY_MAX_MS = 5000;

/**
 * Fails `work` with the error `expired()` makes once it runs over `ms`. A call in a process
 * cannot be cancelled, so `expired` is where the caller stops the replica: what else it held
 * is delivered again, and the partition moves on instead of waiting forever.
 */
export function withinTimeout<T>(work: Promise<T>, ms: number, expired: () => RiffError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether a failed write may succeed if tried again: riff's own failures (a full disk, a broker
 * that is stopping or away, a topic whose record was lost) may pass; a refused message (too
 * large, a topic deleted) never will.
 */
export function isTransient(err: unknown): boolean {
  const e = toRiffError(err);
  // A topic whose record was lost comes back with `riff topics recover`: its results wait.
  return e.kind === "system" || e.code === "RIFF_STORAGE_FULL" || e.code === "RIFF_BROKER_UNAVAILABLE" || e.code === "RIFF_TOPIC_UNRECORDED";
}

/**
 * Runs a write of a result (to the output or dead-letter topic) until it succeeds, since the
 * offset must not be committed before it; waits longer after each failure (a full disk may be
 * freed, NATS comes back). Rejects at once on a failure that will not pass ({@link isTransient}),
 * once `signal` aborts, and once `moot()` says the write no longer matters (the message's
 * partition moved to another node, which writes it again).
 */
export async function persistently(
  write: () => Promise<unknown>,
  signal: AbortSignal,
  failed: (err: unknown, waitMs: number) => void,
  moot: () => boolean = () => false,
): Promise<void> {
  for (let failures = 0; ; failures++) {
    try {
      await write();
      return;
    } catch (err) {
      if (signal.aborted || moot() || !isTransient(err)) throw err;
      const waitMs = Math.min(RESULT_RETRY_MAX_MS, 100 * 2 ** failures);
      failed(err, waitMs);
      await sleep(waitMs, undefined, { signal });
    }
  }
}

/**
 * Per key, the last work given: when a partition's messages run one at a time, the next one's
 * clock starts once the one before it has settled.
 */
export class SettleChain {
  private readonly last = new Map<string, Promise<void>>();

  /** Makes `work` the last of `key`; resolves once the work before it settled (undefined: none). */
  after(key: string, work: Promise<unknown>): Promise<void> | undefined {
    const before = this.last.get(key);
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.last.set(key, settled);
    void settled.then(() => {
      if (this.last.get(key) === settled) this.last.delete(key);
    });
    return before;
  }
}
