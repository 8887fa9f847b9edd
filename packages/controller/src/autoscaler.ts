/** What the autoscaler sees of one function at one instant. */
export interface ScaleObservation {
  /** Replicas running or starting. */
  current: number;
  /** Messages dispatched to replicas and not yet answered. */
  inFlight: number;
  /** Messages on the input topic not yet handled by the function's group. */
  lag: number;
  /** When a message was last dispatched or finished (ms since the epoch). */
  lastActivityAt: number;
  idleTimeoutMs: number;
  /** Upper bound: min(maxReplicas, input partitions). */
  maxReplicas: number;
}

/** The autoscaler's answer, with a reason that `riff describe` and the logs show. */
export interface ScaleDecision {
  desired: number;
  reason: string;
}

/**
 * Decides how many replicas a function should have. Pure: same observation, same answer.
 * This first version scales between 0 and 1: up at once when there is work, down to zero after
 * `idleTimeoutMs` with no lag, nothing in flight and no activity.
 */
export function decide(o: ScaleObservation, now: number): ScaleDecision {
  const cap = Math.max(1, o.maxReplicas);
  if (o.lag > 0 || o.inFlight > 0) {
    if (o.current === 0) return { desired: 1, reason: `work waiting (lag ${o.lag}, in flight ${o.inFlight})` };
    return { desired: Math.min(o.current, cap), reason: "busy" };
  }
  const idleFor = now - o.lastActivityAt;
  if (o.current > 0 && idleFor >= o.idleTimeoutMs) {
    return { desired: 0, reason: `idle for ${idleFor} ms (idleTimeoutMs ${o.idleTimeoutMs})` };
  }
  return { desired: Math.min(o.current, cap), reason: "steady" };
}
