import type { Broker } from "@riff/broker";
import { RiffError, type Logger, type ScalingReason, type TelemetrySink } from "@riff/core";
import type { RunnerSnapshot } from "@riff/runtime";
import { decide, type ScaleDecision } from "./autoscaler.js";
import type { StoredFunction } from "./function-spec.js";

/** Scaling decisions kept per function for `riff describe`. */
const DECISIONS_KEPT = 20;
/** Weight of the newest sample in the rate averages. */
const RATE_SMOOTHING = 0.3;

/** A decision as `riff describe` shows it. */
export interface ScalingEvent {
  at: string;
  from: number;
  to: number;
  reason: string;
  /** The reason as a bounded label (`backlog`, `idle`, ...). */
  code: ScalingReason;
}

interface Memory {
  /** The function's creation: one deleted and made again under its name starts a new memory. */
  createdAt: string;
  downSince: number | undefined;
  lastTick: number;
  handled: Map<string, number>;
  rates: Map<string, number>;
  endTotal: number | undefined;
  arrivalRate: number;
  decisions: ScalingEvent[];
  /** What the last tick decided, changed or not; undefined before the first. */
  desired: number | undefined;
  /** Replicas seen at the last tick. */
  seen: number;
  /** Their ids: a replica started and gone between two ticks leaves the count alone, not the ids. */
  seenIds: Set<string>;
  /** The lag summed over the inputs at the last tick, and the effective maximum of replicas (0 before). */
  lag: number;
  maxReplicas: number;
}

/**
 * The decisions made since `createdAt` (both ISO times): those made for an earlier function of
 * the same name, deleted since, are not this one's.
 */
export function decisionsSince(decisions: ScalingEvent[], createdAt: string): ScalingEvent[] {
  return decisions.filter((d) => d.at >= createdAt);
}

/**
 * One function as the autoscaler sees it: its spec, what runs of it (on this daemon, or summed
 * over a cluster's nodes), and how to change the replica count.
 */
export interface ScaleTarget {
  fn: StoredFunction;
  snapshot: Pick<RunnerSnapshot, "status" | "replicas" | "inFlight" | "lastActivityAt">;
  /** Acts on a decision: starts or stops replicas, or places them on a cluster's nodes. */
  scaleTo(desired: number, decision: ScaleDecision): void;
}

/**
 * Runs the autoscaler: every tick it observes each function (lag per partition from the
 * broker, per-replica rates from handled counts, arrival rate from end offsets), asks the pure
 * `decide()`, and starts or stops replicas. Every change is logged and kept for `riff describe`.
 */
export class Scaler {
  private readonly memory = new Map<string, Memory>();
  /** When this autoscaler began: a function made since had no replica before it first looked. */
  private readonly bornAt = Date.now();

  constructor(
    private readonly broker: Broker,
    private readonly logger: Logger,
    /** Where each decision is told (metrics, the dashboard); undefined: only the log. */
    private readonly telemetry?: TelemetrySink,
  ) {}

  /** One round over every function. */
  async tick(targets: Iterable<ScaleTarget>, now = Date.now()): Promise<void> {
    for (const target of targets) {
      const { fn } = target;
      try {
        await this.scaleOne(target, now);
      } catch (err) {
        // The broker away is said once, where the connection drops; not again every round for every function.
        if (err instanceof RiffError && err.code === "RIFF_BROKER_UNAVAILABLE") this.logger.debug("scaling waits for the broker", { fn: fn.name, err: err.message });
        else this.logger.warn("scaling failed", { fn: fn.name, err: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  /** How many replicas the autoscaler wants now; undefined before it first looked. */
  desired(name: string): number | undefined {
    return this.memory.get(name)?.desired;
  }

  /** The last decisions that changed something, newest last. */
  decisions(name: string): ScalingEvent[] {
    return this.memory.get(name)?.decisions ?? [];
  }

  /** Smoothed messages per second: per replica, and arriving on the input. */
  rates(name: string): { replicas: Record<string, number>; arrival: number } {
    const m = this.memory.get(name);
    return { replicas: Object.fromEntries(m?.rates ?? []), arrival: m?.arrivalRate ?? 0 };
  }

  /** The lag and the effective maximum of replicas at the last tick; undefined before the first. */
  observed(name: string): { lag: number; maxReplicas: number } | undefined {
    const m = this.memory.get(name);
    if (m === undefined || m.maxReplicas === 0) return undefined;
    return { lag: m.lag, maxReplicas: m.maxReplicas };
  }

  forget(name: string): void {
    this.memory.delete(name);
  }

  private async scaleOne(target: ScaleTarget, now: number): Promise<void> {
    const { fn, snapshot: snap } = target;
    if (snap.status === "failed" && snap.replicas.length === 0) return;
    const lags = await Promise.all(fn.inputs.map((t) => this.broker.lag(t, fn.name)));
    const lag = { lag: lags.reduce((s, l) => s + l.lag, 0), partitions: lags.flatMap((l) => l.partitions) };
    const m = this.remember(fn.name, fn.createdAt, now, snap.replicas.map((r) => r.id));
    m.lag = lag.lag;
    m.maxReplicas = Math.min(fn.maxReplicas ?? lag.partitions.length, lag.partitions.length);
    const seconds = Math.max(0.001, (now - m.lastTick) / 1000);
    for (const r of snap.replicas) {
      const before = m.handled.get(r.id);
      m.handled.set(r.id, r.handled);
      if (before === undefined || r.state !== "ready") continue;
      const sample = (r.handled - before) / seconds;
      const old = m.rates.get(r.id);
      // A replica that handled nothing while nothing was waiting says nothing about its speed.
      if (sample > 0 || (lag.lag > 0 && r.inFlight > 0)) m.rates.set(r.id, old === undefined ? sample : old + RATE_SMOOTHING * (sample - old));
    }
    for (const id of m.rates.keys()) if (!snap.replicas.some((r) => r.id === id)) m.rates.delete(id);
    const endTotal = lag.partitions.reduce((s, p) => s + p.end, 0);
    if (m.endTotal !== undefined) m.arrivalRate += RATE_SMOOTHING * ((endTotal - m.endTotal) / seconds - m.arrivalRate);
    m.endTotal = endTotal;
    m.lastTick = now;

    const current = snap.replicas.length;
    const started = snap.replicas.some((r) => !m.seenIds.has(r.id));
    if ((current > m.seen || started) && current > (m.desired ?? 0)) {
      // Started between ticks without the autoscaler: the runner does 0 -> 1 itself on a message.
      this.record(fn.name, m, { from: Math.min(m.seen, m.desired ?? 0), to: current, reason: "started between two looks of the autoscaler (by a message, or by riff create or update)" }, "started");
    }
    const decision = decide(
      {
        current,
        partitionLag: lag.partitions.map((p) => p.lag),
        replicaRates: [...m.rates.values()],
        inFlight: snap.inFlight,
        arrivalRate: m.arrivalRate,
        lastActivityAt: snap.lastActivityAt,
        downSince: m.downSince,
        spec: {
          minReplicas: fn.minReplicas ?? 0,
          maxReplicas: Math.min(fn.maxReplicas ?? lag.partitions.length, lag.partitions.length),
          idleTimeoutMs: fn.idleTimeoutMs,
        },
      },
      now,
    );
    const before = m.desired;
    m.downSince = decision.downSince;
    m.desired = decision.desired;
    m.seen = current;
    m.seenIds = new Set(snap.replicas.map((r) => r.id));
    if (decision.desired !== current) {
      // Acting again is harmless (replicas starting count); saying it again is noise: the
      // decision is recorded when it is new, not while replicas (or a placement) catch up.
      const last = m.decisions.at(-1);
      if (before !== decision.desired || last?.to !== decision.desired) this.record(fn.name, m, { from: current, to: decision.desired, reason: decision.reason }, decision.code);
      target.scaleTo(decision.desired, decision);
    }
  }

  private record(name: string, m: Memory, e: Omit<ScalingEvent, "at" | "code">, code: ScalingReason): void {
    const at = Date.now();
    m.decisions.push({ at: new Date(at).toISOString(), ...e, code });
    this.telemetry?.scaling({ function: name, at, from: e.from, to: e.to, direction: e.to > e.from ? "up" : "down", reason: code, why: e.reason });
    if (m.decisions.length > DECISIONS_KEPT) m.decisions.shift();
    this.logger.info("scaling", { fn: name, ...e });
  }

  /** This function's memory; a new one starts from the replicas running now (started by `riff create`). */
  private remember(name: string, createdAt: string, now: number, running: string[]): Memory {
    let m = this.memory.get(name);
    // A function deleted and created again (on another node of a cluster, whose leader was
    // not told of the delete) must not show the old one's decisions as its own.
    if (m === undefined || m.createdAt !== createdAt) {
      // Replicas of a function made while this autoscaler ran were started by its `riff
      // create` (0 -> N, told as "started"); those of an older one ran before it looked.
      const fresh = Date.parse(createdAt) >= this.bornAt;
      const seen = fresh ? [] : running;
      m = { createdAt, downSince: undefined, lastTick: now, handled: new Map(), rates: new Map(), endTotal: undefined, arrivalRate: 0, decisions: [], desired: undefined, seen: seen.length, seenIds: new Set(seen), lag: 0, maxReplicas: 0 };
      this.memory.set(name, m);
    }
    return m;
  }
}
