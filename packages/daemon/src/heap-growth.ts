/**
 * How far V8 lets the daemon's old generation grow past what its last full collection found
 * live. V8 picks a factor between 1.1 and 4 from how fast it collects against how fast the
 * program allocates; under load the daemon allocates fast, so it got the large factors: 110 MiB
 * of old space committed for 32 MiB live (docs/performance.md, "Memory"). 1.3 collects more
 * often and keeps the committed heap near the live one, at the CPU cost measured there.
 */
import { setFlagsFromString } from "node:v8";

/** @default 30: the old generation may grow to 1.3 times what was live. */
export const HEAP_GROWING_PERCENT = 30;

/**
 * Sets the growing factor. V8 reads it each time it sets the next collection's limit, so it
 * takes effect at run time, also where the daemon is started without `riff system start`
 * (a container runs main.js directly). A V8 without the flag prints a line to stderr and goes
 * on as before.
 */
export function limitHeapGrowth(percent: number = HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
