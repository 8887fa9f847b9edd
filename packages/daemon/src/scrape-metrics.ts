import { Gauge, type Registry } from "prom-client";
import type { Broker, PartitionOffsets } from "@riff/broker";
import type { FunctionView } from "@riff/controller";

/**
 * Topics whose offsets one scrape reads. Past this, the rest are left out of that scrape
 * (the sorted list's first ones stay): a scrape must stay quick with thousands of topics.
 */
export const MAX_SCRAPED_TOPICS = 1000;
/** Messages one scrape reads to age the oldest unconsumed one of each group and topic. */
export const MAX_LAG_AGE_READS = 256;

/** What one scrape saw: read once, whichever gauge asks first, shared by the others. */
interface Snapshot {
  /** Undefined when the functions could not be listed: their gauges are then left out. */
  functions: FunctionView[] | undefined;
  topics: { name: string; offsets: PartitionOffsets[] }[];
  /** Seconds since the oldest unconsumed message was written, by group and topic. */
  lagSeconds: { group: string; topic: string; seconds: number }[];
}

/** Where the scrape-time gauges read from, and who hears which functions and topics exist. */
export interface ScrapeSources {
  broker: Broker;
  functions(): Promise<FunctionView[]>;
  /** Called at each scrape with the functions (name -> invoker) and topics that exist, to drop the gone ones' series. */
  retain(functions: ReadonlyMap<string, string>, topics: ReadonlySet<string> | undefined): void;
  now?: () => number;
}

/**
 * The gauges of riff's state, read when Prometheus scrapes: replicas, in-flight messages,
 * partition offsets and consumer-group lag. Each gauge is emptied and filled again from the
 * scrape's snapshot, so deleted functions and topics leave no series behind. A topic that
 * fails to answer is left out of that scrape; the scrape itself does not fail.
 */
/**
 * Returns the function that takes (or joins) the scrape's snapshot: the event metrics await it
 * too, so that a deleted function's series are gone from the very scrape that first misses it.
 */
export function registerScrapeMetrics(registry: Registry, sources: ScrapeSources): () => Promise<unknown> {
  const now = sources.now ?? Date.now;
  let pending: Promise<Snapshot> | undefined;
  // registry.metrics() calls every collect() in one synchronous loop: the first starts the
  // snapshot, the others wait for the same one.
  const snapshot = (): Promise<Snapshot> => (pending ??= take(sources, now).finally(() => (pending = undefined)));
  const gauge = <L extends string>(name: string, help: string, labelNames: L[], fill: (set: (labels: Record<L, string>, value: number) => void, s: Snapshot) => void) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        fill((labels, value) => this.set(labels, value), s);
      },
    });
  const eachFunction = (s: Snapshot, f: (fn: FunctionView) => void) => s.functions?.forEach(f);

  gauge("riff_function_replicas", "Replicas of a function: desired (the autoscaler's wish), ready, starting and stopping.", ["function", "state"], (set, s) =>
    eachFunction(s, (fn) => {
      const count = (state: string) => fn.replicas.filter((r) => r.state === state).length;
      set({ function: fn.name, state: "desired" }, fn.desired);
      set({ function: fn.name, state: "ready" }, fn.ready);
      set({ function: fn.name, state: "starting" }, count("starting"));
      set({ function: fn.name, state: "stopping" }, count("stopping"));
    }),
  );
  gauge("riff_function_inflight", "Messages of a function dispatched, waiting for a replica, or waiting out a retry's backoff.", ["function"], (set, s) =>
    eachFunction(s, (fn) => set({ function: fn.name }, fn.inFlight)),
  );
  gauge("riff_function_max_replicas", "The most replicas a function may run: its maxReplicas, capped at its input partitions.", ["function"], (set, s) =>
    eachFunction(s, (fn) => {
      const partitions = fn.partitionLag.length;
      const max = partitions === 0 ? fn.maxReplicas : Math.min(fn.maxReplicas ?? partitions, partitions);
      if (max !== undefined) set({ function: fn.name }, max);
    }),
  );
  gauge("riff_topic_partition_end_offset", "The offset the next message of a partition will get.", ["topic", "partition"], (set, s) => {
    for (const t of s.topics) for (const p of t.offsets) set({ topic: t.name, partition: String(p.partition) }, p.end);
  });
  gauge("riff_topic_partition_start_offset", "The oldest offset a partition still holds (retention deletes what is before).", ["topic", "partition"], (set, s) => {
    for (const t of s.topics) for (const p of t.offsets) set({ topic: t.name, partition: String(p.partition) }, p.start);
  });
  const groupGauge = (name: string, help: string, value: (p: FunctionView["partitionLag"][number]) => number) =>
    gauge(name, help, ["group", "topic", "partition"], (set, s) =>
      eachFunction(s, (fn) => {
        for (const p of fn.partitionLag) if (p.topic !== undefined) set({ group: fn.name, topic: p.topic, partition: String(p.partition) }, value(p));
      }),
    );
  groupGauge("riff_consumergroup_committed_offset", "The next offset a consumer group (a function, by its name) will read from a partition.", (p) => p.committed);
  groupGauge("riff_consumergroup_lag", "Messages of a partition its consumer group has not yet handled: end offset minus committed offset.", (p) => p.lag);
  gauge("riff_consumergroup_lag_seconds", "Age of the oldest message of a topic its consumer group has not yet handled; 0 when it is caught up.", ["group", "topic"], (set, s) => {
    for (const l of s.lagSeconds) set({ group: l.group, topic: l.topic }, l.seconds);
  });
  return snapshot;
}

async function take(sources: ScrapeSources, now: () => number): Promise<Snapshot> {
  const [functions, names] = await Promise.all([sources.functions().catch(() => undefined), sources.broker.listTopics().then((ts) => ts.map((t) => t.name)).catch(() => undefined)]);
  const topicNames = names === undefined ? undefined : new Set(names);
  if (functions !== undefined) sources.retain(new Map(functions.map((f) => [f.name, f.invoker])), topicNames);
  const scraped = (names ?? []).slice(0, MAX_SCRAPED_TOPICS);
  const offsets = await Promise.all(
    scraped.map(async (name) => {
      try {
        return { name, offsets: await sources.broker.endOffsets(name) };
      } catch {
        return undefined; // deleted since it was listed, or its storage failed: left out
      }
    }),
  );
  return {
    functions,
    topics: offsets.filter((t) => t !== undefined),
    lagSeconds: await lagAges(sources.broker, functions ?? [], now()),
  };
}

/**
 * For each function and input: how old its oldest unhandled message is, read from the message
 * at the committed offset of each lagging partition. At most {@link MAX_LAG_AGE_READS} reads;
 * the groups past that are left out of this scrape.
 */
async function lagAges(broker: Broker, functions: FunctionView[], now: number): Promise<Snapshot["lagSeconds"]> {
  let reads = 0;
  const work: Promise<{ group: string; topic: string; seconds: number } | undefined>[] = [];
  for (const fn of functions) {
    for (const topic of fn.inputs) {
      const lagging = fn.partitionLag.filter((p) => p.topic === topic && p.lag > 0);
      if (reads + lagging.length > MAX_LAG_AGE_READS) continue;
      reads += lagging.length;
      work.push(oldest(broker, topic, lagging).then((ts) => (ts === false ? undefined : { group: fn.name, topic, seconds: ts === undefined ? 0 : Math.max(0, (now - ts) / 1000) })));
    }
  }
  return (await Promise.all(work)).filter((l) => l !== undefined);
}

/** The oldest timestamp at the committed offsets of `partitions`; undefined when none lags; false when a read failed. */
async function oldest(broker: Broker, topic: string, partitions: { partition: number; committed: number }[]): Promise<number | undefined | false> {
  try {
    const heads = await Promise.all(partitions.map((p) => broker.read(topic, p.partition, p.committed, 1)));
    const stamps = heads.flatMap((h) => h.map((m) => m.timestamp));
    return stamps.length === 0 ? undefined : Math.min(...stamps);
  } catch {
    return false;
  }
}
