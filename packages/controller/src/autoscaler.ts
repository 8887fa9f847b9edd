import type { ScalingReason } from "@riff/core";

/** @default 1000 ms: enough replicas to drain the backlog within this time. */
export const DEFAULT_TARGET_DRAIN_MS = 1000;
/** @default 2000 ms: how long fewer replicas must suffice before one is removed. */
export const DEFAULT_SCALE_DOWN_STABLE_MS = 2000;

/** The function's scaling settings, resolved. */
export interface ScaleSpec {
  minReplicas: number;
  /** min(spec.maxReplicas, input partitions). */
  maxReplicas: number;
  idleTimeoutMs: number;
  /** @default DEFAULT_TARGET_DRAIN_MS */
  targetDrainMs?: number;
  /** @default DEFAULT_SCALE_DOWN_STABLE_MS */
  scaleDownStableMs?: number;
}

/** What the autoscaler sees of one function at one instant. */
export interface ScaleObservation {
  /** Replicas running or starting. */
  current: number;
  /** Unhandled messages per input partition (end offset minus committed offset). */
  partitionLag: number[];
  /** Messages per second each ready replica handled recently; empty when unknown. */
  replicaRates: number[];
  /** Messages dispatched and not answered, plus those received and waiting for a replica. */
  inFlight: number;
  /** Messages per second arriving on the input topic. */
  arrivalRate: number;
  /** When a message was last received or finished (ms since the epoch). */
  lastActivityAt: number;
  /** Since when fewer replicas would have sufficed; undefined when not. Kept by the caller from the last decision. */
  downSince: number | undefined;
  spec: ScaleSpec;
}

/** The answer, with a reason for `riff describe` and the logs. */
export interface ScaleDecision {
  desired: number;
  reason: string;
  /** The reason as a bounded label (the metrics' `reason`). */
  code: ScalingReason;
  /** To pass back as `downSince` in the next observation. */
  downSince: number | undefined;
}

/**
 * Decides how many replicas a function should have. Pure: same observation, same answer.
 *
 * - 0 to 1 at once when a message waits.
 * - Up at once to the replicas needed to drain the backlog within the target time at the
 *   measured per-replica rate (before any rate is known: one per partition with a backlog).
 * - Down one at a time, and only after fewer replicas have sufficed for `scaleDownStableMs`,
 *   so brief dips change nothing.
 * - To zero (or `minReplicas`) only after `idleTimeoutMs` with no lag and nothing in flight.
 * - Never above `maxReplicas` (which the caller caps at the partition count).
 */
export function decide(o: ScaleObservation, now: number): ScaleDecision {
  const { spec } = o;
  const min = Math.max(0, spec.minReplicas);
  const max = Math.max(min, spec.maxReplicas, 1);
  const clamp = (n: number) => Math.min(max, Math.max(min, n));
  const lag = o.partitionLag.reduce((a, b) => a + b, 0);
  const busy = lag > 0 || o.inFlight > 0;
  if (o.current < min && !busy) return { desired: min, reason: `minReplicas ${min}`, code: "min-replicas", downSince: undefined };

  if (!busy) {
    const idleFor = now - o.lastActivityAt;
    if (idleFor >= spec.idleTimeoutMs && o.current > min) {
      // No activity ever seen (replicas started elsewhere, e.g. a Deployment's first pod): no duration to tell.
      const since = o.lastActivityAt === 0 ? "no activity seen" : `${idleFor} ms`;
      return { desired: min, reason: `idle for ${since} (idleTimeoutMs ${spec.idleTimeoutMs})`, code: "idle", downSince: undefined };
    }
    // Idle but not yet for long: keep one warm, trimming extras gradually.
    return stepDown(o, clamp(Math.min(o.current, 1)), now, "no backlog", "idle");
  }

  const needed = clamp(Math.max(1, replicasNeeded(o, lag)));
  if (needed > o.current) {
    return { desired: needed, reason: `backlog ${lag} on ${o.partitionLag.filter((l) => l > 0).length} partition(s): ${describeRate(o)}`, code: "backlog", downSince: undefined };
  }
  return stepDown(o, needed, now, `backlog ${lag}`, "load");
}

function replicasNeeded(o: ScaleObservation, lag: number): number {
  const rate = median(o.replicaRates.filter((r) => r > 0));
  if (rate === undefined) return o.partitionLag.filter((l) => l > 0).length;
  const targetSec = (o.spec.targetDrainMs ?? DEFAULT_TARGET_DRAIN_MS) / 1000;
  return Math.ceil((lag / targetSec + o.arrivalRate) / rate);
}

function stepDown(o: ScaleObservation, wanted: number, now: number, why: string, code: ScalingReason): ScaleDecision {
  if (wanted >= o.current) return { desired: o.current, reason: `${why}: steady at ${o.current}`, code, downSince: undefined };
  const since = o.downSince ?? now;
  const stable = o.spec.scaleDownStableMs ?? DEFAULT_SCALE_DOWN_STABLE_MS;
  if (now - since >= stable) {
    return { desired: o.current - 1, reason: `${why}: ${wanted} replica(s) sufficed for ${now - since} ms`, code, downSince: undefined };
  }
  return { desired: o.current, reason: `${why}: ${wanted} would suffice, waiting for it to hold`, code, downSince: since };
}

function describeRate(o: ScaleObservation): string {
  const rate = median(o.replicaRates.filter((r) => r > 0));
  return rate === undefined ? "no rate measured yet, one replica per busy partition" : `${rate.toFixed(0)} msg/s per replica`;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
