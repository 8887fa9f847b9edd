import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { Broker, PartitionOffsets, StoredMessage, TopicInfo } from "@riff/broker";
import type { FunctionView } from "@riff/controller";
import { MAX_SCRAPED_TOPICS, registerScrapeMetrics } from "./scrape-metrics.js";

/** A broker of `topics` (one partition each); `failing` ones throw on every call. */
function fakeBroker(topics: string[], o: { failing?: string[]; timestamps?: Record<string, number> } = {}) {
  const calls = { endOffsets: 0 };
  const check = (t: string) => {
    if (o.failing?.includes(t)) throw new Error(`storage of ${t} failed`);
  };
  const broker: Pick<Broker, "listTopics" | "endOffsets" | "read"> = {
    listTopics: async () => topics.map((name) => ({ name }) as TopicInfo),
    endOffsets: async (t): Promise<PartitionOffsets[]> => {
      calls.endOffsets++;
      check(t);
      return [{ partition: 0, start: 2, end: 7 }];
    },
    read: async (t, partition, offset): Promise<StoredMessage[]> => {
      check(t);
      return [{ topic: t, partition, offset, payload: new Uint8Array(), headers: {}, key: undefined, timestamp: o.timestamps?.[t] ?? 0 }];
    },
  };
  return { broker: broker as Broker, calls };
}

/** A function reading `input`, its group `committed` of 7 on partition 0. */
function view(name: string, input: string, committed: number): FunctionView {
  const partitionLag = [{ topic: input, partition: 0, committed, end: 7, lag: 7 - committed }];
  return { name, inputs: [input], replicas: [{ state: "ready" }, { state: "starting" }], desired: 3, ready: 1, inFlight: 4, maxReplicas: undefined, partitionLag } as unknown as FunctionView;
}

async function scrape(broker: Broker, functions: () => Promise<FunctionView[]>, retained: string[][] = []): Promise<string> {
  const registry = new Registry();
  registerScrapeMetrics(registry, { broker, functions, retain: (f) => void retained.push([...f]), now: () => 10_000 });
  return registry.metrics();
}

describe("the scrape-time metrics", () => {
  it("a topic that fails to answer is left out; the scrape still answers for the others", async () => {
    const { broker } = fakeBroker(["bad", "good"], { failing: ["bad"] });
    const text = await scrape(broker, async () => [view("f", "bad", 3), view("g", "good", 5)]);
    expect(text).toContain('riff_topic_partition_end_offset{topic="good",partition="0"} 7');
    expect(text).toContain('riff_topic_partition_start_offset{topic="good",partition="0"} 2');
    expect(text).not.toContain('riff_topic_partition_end_offset{topic="bad"');
    expect(text).not.toMatch(/riff_consumergroup_lag_seconds\{group="f"/);
    expect(text).toContain('riff_consumergroup_lag_seconds{group="g",topic="good"} 10');
  });

  it("the lag in seconds is the age of the message at the committed offset, 0 when caught up", async () => {
    const { broker } = fakeBroker(["in", "done"], { timestamps: { in: 4_000 } });
    const text = await scrape(broker, async () => [view("f", "in", 3), view("h", "done", 7)]);
    expect(text).toContain('riff_consumergroup_lag_seconds{group="f",topic="in"} 6');
    expect(text).toContain('riff_consumergroup_lag_seconds{group="h",topic="done"} 0');
    expect(text).toContain('riff_consumergroup_lag{group="f",topic="in",partition="0"} 4');
    expect(text).toContain('riff_consumergroup_committed_offset{group="f",topic="in",partition="0"} 3');
  });

  it("replicas by state, in flight, and max replicas capped at the input partitions", async () => {
    const { broker } = fakeBroker(["in"]);
    const text = await scrape(broker, async () => [view("f", "in", 7)]);
    for (const [state, n] of [["desired", 3], ["ready", 1], ["starting", 1], ["stopping", 0]] as const) expect(text).toContain(`riff_function_replicas{function="f",state="${state}"} ${n}`);
    expect(text).toContain('riff_function_inflight{function="f"} 4');
    expect(text).toContain('riff_function_max_replicas{function="f"} 1');
  });

  it(`reads the offsets of at most ${MAX_SCRAPED_TOPICS} topics a scrape`, async () => {
    const { broker, calls } = fakeBroker(Array.from({ length: MAX_SCRAPED_TOPICS + 50 }, (_, i) => `t${String(i).padStart(5, "0")}`));
    await scrape(broker, async () => []);
    expect(calls.endOffsets).toBe(MAX_SCRAPED_TOPICS);
  });

  it("functions that cannot be listed leave their gauges out and drop no series", async () => {
    const { broker } = fakeBroker(["in"]);
    const retained: string[][] = [];
    const text = await scrape(broker, () => Promise.reject(new Error("catalog away")), retained);
    expect(text).not.toContain("riff_function_replicas{");
    expect(text).toContain('riff_topic_partition_end_offset{topic="in",partition="0"} 7');
    expect(retained).toEqual([]);
  });
});
