import type { Logger } from "@riff/core";
import { kubeStatus, type KindRef, type KubeApi, type KubeObject, type WatchEvent } from "./kube-api.js";

/** Waits after a failed list, or a watch that ended, before listing again. */
const RELIST_BACKOFF_MS = 1000;

/** What an informer tells: a full list (at start and after every gap), then each change. */
export type InformerEvent = { type: "listed"; items: KubeObject[]; resourceVersion: string } | { type: "change"; event: WatchEvent };

/**
 * Lists `kind`, then watches from the list's resourceVersion, and lists again whenever the
 * watch ends (the server closes watches after a while, or answers 410 for a resourceVersion it
 * no longer has), as client-go's reflector does. Yields until `signal` aborts. Consumers are
 * level-triggered: a relist repeats what they knew, harmlessly.
 */
export async function* inform(api: KubeApi, kind: KindRef, signal: AbortSignal, logger: Logger, namespace?: string): AsyncGenerator<InformerEvent> {
  while (!signal.aborted) {
    let rv: string;
    try {
      const listed = await api.list(kind, namespace);
      rv = listed.resourceVersion;
      yield { type: "listed", items: listed.items, resourceVersion: rv };
    } catch (err) {
      logger.warn(`could not list ${kind.plural}; trying again`, { err: String(err) });
      await pause(RELIST_BACKOFF_MS, signal);
      continue;
    }
    const queue: WatchEvent[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const watching = api
      .watch(kind, rv, signal, (e) => {
        queue.push(e);
        wake?.();
      }, namespace)
      .catch((err: unknown) => {
        if (kubeStatus(err) !== 410) logger.warn(`the watch of ${kind.plural} failed; listing again`, { err: String(err) });
      })
      .finally(() => {
        ended = true;
        wake?.();
      });
    while (!ended || queue.length > 0) {
      const event = queue.shift();
      if (event !== undefined) {
        yield { type: "change", event };
        continue;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    await watching;
    if (!signal.aborted) await pause(RELIST_BACKOFF_MS, signal);
  }
}

/** Waits `ms`, or less if `signal` aborts; the abort listener goes with the wait (loops pause on one long-lived signal). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
