import { setTimeout as sleep } from "node:timers/promises";
import { formatDuration, RiffError, toRiffError } from "@riff/core";
import type { Replica } from "./replica.js";

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

/**
 * {@link withinTimeout} with a function's timeout, counted from when the message can run: with
 * order kept, a replica runs a partition's messages one at a time, so a message's clock starts
 * when the one before it settles, not while it waits. A stuck replica is retired.
 */
export class MessageTimeouts {
  /** Per partition (ordered only): when the last message dispatched to it settles. */
  private readonly running = new SettleChain();

  constructor(private readonly o: { name: string; ordered: boolean; timeoutMs: () => number; retire: (replica: Replica, why: string) => void }) {}

  timed<T>(replica: Replica, key: string, id: string, work: Promise<T>): Promise<T> {
    const ms = this.o.timeoutMs();
    const { name } = this.o;
    const before = this.o.ordered ? this.running.after(key, work) : undefined;
    const expired = () => {
      this.o.retire(replica, `${id} ran over the timeout of ${formatDuration(ms)}`);
      return new RiffError("RIFF_FUNCTION_TIMEOUT", `function '${name}' did not finish the message within ${formatDuration(ms)}`, {
        hint: `if it needs longer, raise spec.timeoutMs in its YAML (e.g. timeoutMs: 5m) and run \`riff update -n ${name}\`; see what it waits for with \`riff logs -n ${name}\``,
      });
    };
    if (before === undefined) return withinTimeout(work, ms, expired);
    return before.then(() => withinTimeout(work, ms, expired));
  }
}
