import type { Broker, TopicConfig, TopicInfo } from "@riff/broker";
import type { TopicRates } from "./topic-rates.js";

/** What applying one resource did. */
export interface ApplyResult {
  kind: "Function" | "Topic" | "Invoker";
  name: string;
  /** `restarted`: same code and settings, but a function that had failed to start was started. */
  action: "created" | "updated" | "unchanged" | "restarted";
  revision?: number;
  /** A function's, once a replica said: `stream` functions send no replies. */
  shape?: "request-reply" | "stream";
}

/**
 * Makes topic `name` have what `wanted` names, and leaves alone what it does not: a Topic
 * document or `riff topics create` without a partition count keeps an existing topic's, and
 * likewise retention and durability. Partitions only go up (RIFF_PARTITIONS_DECREASE).
 */
export async function reconcileTopic(
  broker: Broker,
  name: string,
  wantedWithRate: TopicConfig & { rate?: number | null | undefined },
  rates?: TopicRates,
): Promise<{ topic: TopicInfo & { rate?: number }; action: ApplyResult["action"] }> {
  // The rate is the gateway's, not the broker's: kept apart, in its own store.
  const { rate, ...wanted } = wantedWithRate;
  const done = await reconcileBrokerTopic(broker, name, wanted);
  const rateChanged = (await rates?.set(name, rate)) === true;
  const current = rates?.rateOf(name);
  return {
    topic: { ...done.topic, ...(current === undefined ? {} : { rate: current }) },
    action: rateChanged && done.action === "unchanged" ? "updated" : done.action,
  };
}

async function reconcileBrokerTopic(broker: Broker, name: string, wanted: TopicConfig): Promise<{ topic: TopicInfo; action: ApplyResult["action"] }> {
  // Fresh: a topic deleted through another node of a cluster is made again, not "unchanged".
  const existing = await broker.getTopic(name, { fresh: true });
  if (existing === undefined) return { topic: await broker.createTopic(name, wanted), action: "created" };
  let topic = existing;
  // In the order that changes nothing when a part is refused: lowering partitions fails at
  // once, bad settings fail before the partitions are raised.
  const { partitions, ...settings } = wanted;
  if (partitions !== undefined && partitions < existing.partitions) await broker.setPartitions(name, partitions);
  const changed = Object.fromEntries(
    Object.entries(settings).filter(([k, v]) => v !== undefined && v !== (existing as unknown as Record<string, unknown>)[k]),
  );
  if (Object.keys(changed).length > 0) topic = await broker.configureTopic(name, changed);
  if (partitions !== undefined && partitions > existing.partitions) topic = await broker.setPartitions(name, partitions);
  return { topic, action: JSON.stringify(topic) === JSON.stringify(existing) ? "unchanged" : "updated" };
}
