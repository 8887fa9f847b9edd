import type { Metric, Registry } from "prom-client";

/** A counter's series for one label set: `inc` is one add. */
export class CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** A histogram's series for one label set: per-bucket counts (not cumulative until exposed), sum and count. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

/** One line of the exposition, as prom-client's registry formats it. */
interface Exposed {
  metricName: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A counter or histogram whose hot path is a field update. prom-client's own `labels().observe()`
 * validates and hashes the labels on every call (about a microsecond), and riff records several
 * per request; here the label children are plain objects, made once and kept by the caller, and
 * the work of the text format is done at scrape time only. prom-client's registry still
 * serves them: it reads any metric through `name`, `help`, `type` and `get()`.
 */
abstract class FastMetric<L extends string, C> {
  readonly aggregator = "sum";
  readonly #children = new Map<string, { labels: Record<L, string>; child: C }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "histogram",
    private readonly labelNames: readonly L[],
    registry: Registry,
    /** Awaited before each read: the scrape's own bookkeeping (dropping gone functions). */
    private readonly settle: () => Promise<unknown>,
  ) {
    // The registry's type names only prom-client's classes; at run time it reads any metric alike.
    registry.registerMetric(this as unknown as Metric<L>);
  }

  /** The series of `labels`, made at first use. Keep it: looking it up hashes the labels. */
  labels(labels: Record<L, string>): C {
    const key = this.#key(labels);
    let entry = this.#children.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, child: this.make() };
      this.#children.set(key, entry);
    }
    return entry.child;
  }

  /** Takes the series of `labels` out (a deleted function's); a child still held goes on counting unseen. */
  remove(labels: Record<L, string>): void {
    this.#children.delete(this.#key(labels));
  }

  reset(): void {
    this.#children.clear();
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Exposed[] }> {
    await this.settle();
    const values: Exposed[] = [];
    for (const { labels, child } of this.#children.values()) this.expose(child, labels, values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  protected abstract make(): C;
  protected abstract expose(child: C, labels: Record<string, string>, into: Exposed[]): void;

  #key(labels: Record<L, string>): string {
    return this.labelNames.map((n) => labels[n]).join("\u0000");
  }
}

/** A Prometheus counter of {@link CounterChild} series. */
export class FastCounter<L extends string> extends FastMetric<L, CounterChild> {
  constructor(o: { name: string; help: string; labelNames: readonly L[]; registry: Registry; settle: () => Promise<unknown> }) {
    super(o.name, o.help, "counter", o.labelNames, o.registry, o.settle);
  }
  protected make(): CounterChild {
    return new CounterChild();
  }
  protected expose(child: CounterChild, labels: Record<string, string>, into: Exposed[]): void {
    into.push({ metricName: this.name, labels, value: child.value });
  }
}

/** A Prometheus histogram of {@link HistogramChild} series, with fixed bucket bounds. */
export class FastHistogram<L extends string> extends FastMetric<L, HistogramChild> {
  readonly #bounds: readonly number[];
  constructor(o: { name: string; help: string; labelNames: readonly L[]; buckets: readonly number[]; registry: Registry; settle: () => Promise<unknown> }) {
    super(o.name, o.help, "histogram", o.labelNames, o.registry, o.settle);
    this.#bounds = [...o.buckets].sort((a, b) => a - b);
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.#bounds);
  }
  protected expose(child: HistogramChild, labels: Record<string, string>, into: Exposed[]): void {
    let cumulative = 0;
    this.#bounds.forEach((bound, i) => {
      cumulative += child.counts[i] as number;
      into.push({ metricName: `${this.name}_bucket`, labels: { le: String(bound), ...labels }, value: cumulative });
    });
    into.push(
      { metricName: `${this.name}_bucket`, labels: { le: "+Inf", ...labels }, value: child.count },
      { metricName: `${this.name}_sum`, labels, value: child.sum },
      { metricName: `${this.name}_count`, labels, value: child.count },
    );
  }
}
