import type { ColdStart, InvocationRecord, ScalingDecision, TelemetrySink } from "@riff/core";

/** Seconds of history kept per function: one hour at one point a second. */
export const SERIES_CAPACITY = 3600;
/** Durations kept per function per second for its percentiles; past it, newer ones overwrite older ones. */
const DURATIONS_PER_SECOND = 2048;
/** Scaling decisions kept per function for the plot's markers. */
const DECISIONS_KEPT = 100;

/** One function's history, oldest first, one entry a second (`t` in seconds since the epoch). */
export interface FunctionSeries {
  t: number[];
  success: number[];
  error: number[];
  timeout: number[];
  /** Durations in ms; null for a second without invocations. */
  p50: (number | null)[];
  p95: (number | null)[];
  p99: (number | null)[];
  replicas: number[];
  cold: number[];
  decisions: ScalingDecision[];
}

/** One second of one function, as the `metrics` stream event sends it. */
export interface SeriesSample {
  t: number;
  success: number;
  error: number;
  timeout: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  replicas: number;
  cold: number;
}

interface Pending {
  success: number;
  error: number;
  timeout: number;
  cold: number;
  durations: number[];
  seen: number;
}

/**
 * The dashboard's history: an in-memory ring per function, fed by the telemetry events and
 * closed once a second by {@link tick}. No Prometheus is needed to draw the last hour, and
 * memory stays bounded whatever the load (one number per series per second).
 */
export class SeriesStore {
  private readonly series = new Map<string, FunctionSeries>();
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly capacity = SERIES_CAPACITY) {}

  /** The telemetry events this store takes. */
  readonly sink: Partial<TelemetrySink> = {
    invocation: (r: InvocationRecord) => {
      const p = this.open(r.function);
      p[r.status]++;
      // Overwrite in a cycle past the cap: a busy second still gives fair percentiles.
      if (p.durations.length < DURATIONS_PER_SECOND) p.durations.push(r.durationMs);
      else p.durations[p.seen % DURATIONS_PER_SECOND] = r.durationMs;
      p.seen++;
    },
    coldStart: (e: ColdStart) => {
      this.open(e.function).cold++;
    },
    scaling: (d: ScalingDecision) => {
      const s = this.of(d.function);
      s.decisions.push(d);
      if (s.decisions.length > DECISIONS_KEPT) s.decisions.shift();
    },
  };

  /** Closes the second `nowMs` falls in for every function named in `replicas` or seen since. */
  tick(nowMs: number, replicas: ReadonlyMap<string, number>): Map<string, SeriesSample> {
    const t = Math.floor(nowMs / 1000);
    const out = new Map<string, SeriesSample>();
    for (const fn of new Set([...replicas.keys(), ...this.pending.keys()])) {
      const p = this.pending.get(fn) ?? { success: 0, error: 0, timeout: 0, cold: 0, durations: [], seen: 0 };
      const sorted = [...p.durations].sort((a, b) => a - b);
      const sample: SeriesSample = {
        t,
        success: p.success,
        error: p.error,
        timeout: p.timeout,
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
        replicas: replicas.get(fn) ?? 0,
        cold: p.cold,
      };
      this.append(fn, sample);
      out.set(fn, sample);
    }
    this.pending.clear();
    return out;
  }

  /** A function's history (empty for one never seen). */
  get(fn: string): FunctionSeries {
    return this.series.get(fn) ?? emptySeries();
  }

  names(): string[] {
    return [...this.series.keys()];
  }

  /** Sums over the last `seconds`: what the overview's tiles show. */
  window(fn: string, seconds: number): { invocations: number; errors: number; cold: number; p95: number | null } {
    const s = this.get(fn);
    const from = Math.max(0, s.t.length - seconds);
    let invocations = 0;
    let errors = 0;
    let cold = 0;
    let p95: number | null = null;
    for (let i = from; i < s.t.length; i++) {
      const e = (s.error[i] ?? 0) + (s.timeout[i] ?? 0);
      invocations += (s.success[i] ?? 0) + e;
      errors += e;
      cold += s.cold[i] ?? 0;
      const p = s.p95[i] ?? null;
      if (p !== null) p95 = Math.max(p95 ?? 0, p);
    }
    return { invocations, errors, cold, p95 };
  }

  forget(fn: string): void {
    this.series.delete(fn);
    this.pending.delete(fn);
  }

  private open(fn: string): Pending {
    let p = this.pending.get(fn);
    if (p === undefined) {
      p = { success: 0, error: 0, timeout: 0, cold: 0, durations: [], seen: 0 };
      this.pending.set(fn, p);
    }
    return p;
  }

  private of(fn: string): FunctionSeries {
    let s = this.series.get(fn);
    if (s === undefined) {
      s = emptySeries();
      this.series.set(fn, s);
    }
    return s;
  }

  private append(fn: string, x: SeriesSample): void {
    const s = this.of(fn);
    s.t.push(x.t);
    s.success.push(x.success);
    s.error.push(x.error);
    s.timeout.push(x.timeout);
    s.p50.push(x.p50);
    s.p95.push(x.p95);
    s.p99.push(x.p99);
    s.replicas.push(x.replicas);
    s.cold.push(x.cold);
    if (s.t.length > this.capacity) {
      for (const arr of [s.t, s.success, s.error, s.timeout, s.p50, s.p95, s.p99, s.replicas, s.cold]) arr.shift();
    }
  }
}

function emptySeries(): FunctionSeries {
  return { t: [], success: [], error: [], timeout: [], p50: [], p95: [], p99: [], replicas: [], cold: [], decisions: [] };
}

/** The nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
}
