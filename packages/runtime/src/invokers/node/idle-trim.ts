import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** How long a replica goes without a frame before it gives back what a load grew. */
export const IDLE_TRIM_MS = 1_000;

/**
 * `gc`, from a throwaway context made while `--expose-gc` is on for that moment only: neither the
 * function's global nor a context the function makes later gets one. Made on the first idle
 * second, not at start: the context costs about 4 ms, which a cold start must not pay.
 */
function privateGc(): () => void {
  setFlagsFromString("--expose-gc");
  try {
    return runInNewContext("gc") as () => void;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/**
 * A full collection once a replica falls idle. V8 keeps the old space it grew under load, and
 * nothing makes it collect while nothing allocates: an idle replica that had held a lot kept all
 * of it (docs/performance.md, "Memory"). With the small young generation the invoker starts node
 * replicas with, a collection here brings a replica back near what it took when new. Costs
 * nothing under load: the timer only fires after a quiet second, and waits for a call that runs
 * longer (`busy`) to end.
 */
export function idleTrimmer(busy: () => boolean, ms = IDLE_TRIM_MS): { activity(): void } {
  let gc: (() => void) | undefined;
  const timer = setTimeout(() => {
    if (busy()) timer.refresh();
    else (gc ??= privateGc())();
  }, ms).unref();
  return { activity: () => void timer.refresh() };
}
