import { RiffError } from "@riff/core";

/** @default 10000 invocation records kept. */
export const DEFAULT_RECORDS_MAX = 10_000;
/**
 * @default 1000 traces a second per node whose spans are recorded; past it, new traces are not
 * sampled (their failures are still recorded), which bounds what records cost under load.
 */
export const DEFAULT_RECORDS_RATE = 1000;
/** @default 24 h: how long invocation records are kept. */
export const DEFAULT_RECORDS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** The invocation records' flags of `riff system start`, as given. */
export interface RecordsOptions {
  /** Invocation records kept (the newest); 0 keeps none. @default DEFAULT_RECORDS_MAX */
  recordsMax?: number;
  /** How long invocation records are kept. @default DEFAULT_RECORDS_MAX_AGE_MS */
  recordsMaxAgeMs?: number;
  /** Traces a second whose spans are all recorded; 0: every one. @default DEFAULT_RECORDS_RATE */
  recordsRate?: number;
}

/** How many records are kept, how long, and how many traces a second are recorded whole. */
export interface ResolvedRecordsOptions {
  max: number;
  maxAgeMs: number;
  /** 0: every trace. */
  rate: number;
}

/**
 * Applies the records' defaults; undefined when they are off (`--records-max 0`). `positive`
 * checks a duration flag as the daemon's other options do.
 */
export function resolveRecordsOptions(options: RecordsOptions, positive: (value: number | undefined, flag: string) => number | undefined): ResolvedRecordsOptions | undefined {
  const max = options.recordsMax ?? DEFAULT_RECORDS_MAX;
  if (!(Number.isInteger(max) && max >= 0 && max <= 1_000_000)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--records-max ${max}: must be a whole number from 0 to 1000000`, {
      hint: "riff system start --records-max 10000 (0 keeps no invocation records)",
    });
  }
  const maxAgeMs = positive(options.recordsMaxAgeMs, "--records-max-age") ?? DEFAULT_RECORDS_MAX_AGE_MS;
  const rate = options.recordsRate ?? DEFAULT_RECORDS_RATE;
  if (!(Number.isInteger(rate) && rate >= 0)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--records-rate ${rate}: must be a whole number of 0 or more`, {
      hint: "riff system start --records-rate 1000 (traces a second recorded whole; 0 records every one)",
    });
  }
  return max === 0 ? undefined : { max, maxAgeMs, rate };
}
