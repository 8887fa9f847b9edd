import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@riff/core";
import type { ResourceStore, StoreEvent } from "./stores.js";

/** Waits after a failed watch before it is opened again; the last one repeats. */
const WATCH_BACKOFF_MS = [250, 1000, 2000, 5000] as const;

/**
 * Follows a store until `signal` aborts: every event of its watch to `take`, and when the
 * watch fails or ends (a NATS server lost, a KV leader elected, the bucket gone) it is opened
 * again after a growing wait. A new watch starts with every current value, so nothing missed
 * meanwhile stays missed.
 */
export async function followStore<T>(store: ResourceStore<T>, signal: AbortSignal, take: (event: StoreEvent<T>) => void, logger: Logger, what: string): Promise<void> {
  for (let failures = 0; !signal.aborted; failures++) {
    try {
      for await (const event of store.watch(signal)) {
        failures = 0;
        take(event);
      }
    } catch (err) {
      if (signal.aborted) return;
      logger.warn(`the watch of ${what} failed; opening it again`, { err: String(err) });
    }
    const wait = WATCH_BACKOFF_MS[Math.min(failures, WATCH_BACKOFF_MS.length - 1)] ?? 5000;
    await sleep(wait, undefined, { signal }).catch(() => undefined);
  }
}
