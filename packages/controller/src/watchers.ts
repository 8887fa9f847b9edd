import type { Revisioned, StoreEvent } from "./stores.js";

/**
 * The watches of an in-process store: each gets the current values, then `synced`, then every
 * change, in order, as an async iterable that ends when its signal aborts. Events are queued
 * per watcher, so a slow consumer misses nothing.
 */
export class Watchers<T> {
  private readonly open = new Set<(event: StoreEvent<T>) => void>();

  /** Tells every open watch about a change. */
  emit(event: StoreEvent<T>): void {
    for (const push of this.open) push(event);
  }

  watch(signal: AbortSignal, snapshot: () => Revisioned<T>[]): AsyncIterable<StoreEvent<T>> {
    const queue: StoreEvent<T>[] = snapshot().map(({ name, value, revision }) => ({ type: "put", name, value, revision }));
    queue.push({ type: "synced" });
    let wake: (() => void) | undefined;
    const push = (event: StoreEvent<T>) => {
      queue.push(event);
      wake?.();
    };
    const open = this.open;
    return {
      async *[Symbol.asyncIterator]() {
        if (signal.aborted) return;
        open.add(push);
        const onAbort = () => wake?.();
        signal.addEventListener("abort", onAbort, { once: true });
        try {
          while (!signal.aborted) {
            const next = queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
          }
        } finally {
          open.delete(push);
          signal.removeEventListener("abort", onAbort);
        }
      },
    };
  }
}
