import type { Durability } from "@riff/core";
import type { TopicInfo } from "@riff/broker";
import { DEFAULT_RETENTION_BYTES, DEFAULT_RETENTION_MS } from "@riff/core";
import { DiscardPolicy, RetentionPolicy, type StreamConfig, type StreamInfo, StorageType, nanos } from "nats";
import type { NatsNames } from "./names.js";
import { resolveTopicConfig } from "./limits.js";

/**
 * Deduplication window by `Nats-Msg-Id`: long enough for the publisher's retries (seconds),
 * short because the server keeps every id of the window in memory (nats-server#8485). It may
 * not exceed `max_age`, so a short retention shortens it.
 */
export const DUPLICATE_WINDOW_MS = 60_000;

/**
 * Start of every stream description riff writes; JSON of {@link StreamDescription} follows.
 * It records what the stream config cannot say, so topic settings can be rebuilt from the
 * streams alone (`recoverTopic`) when riff's KV record of the topic is lost.
 */
export const DESCRIPTION_PREFIX = "riff topic ";

/** What a partition's stream description records. */
export interface StreamDescription {
  topic: string;
  partition: number;
  durability: Durability;
  replicas: number;
  /** The topic's, exactly: the stream's `max_bytes` is this split over the partitions, rounded down. */
  retentionBytes: number;
}

/** The stream of partition `partition` of the topic `info`. Pure. */
export function streamConfig(names: NatsNames, info: TopicInfo, partition: number): StreamConfig {
  const description: StreamDescription = {
    topic: info.name,
    partition,
    durability: info.durability,
    replicas: info.replicas,
    retentionBytes: info.retentionBytes,
  };
  return {
    name: names.stream(info.name, partition),
    subjects: [names.subject(info.name, partition)],
    retention: RetentionPolicy.Limits,
    // Both durability modes store to disk; see docs/broker-nats.md for what each guarantees.
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos(info.retentionMs),
    // retentionBytes is per topic, NATS limits per stream: share it evenly.
    max_bytes: Math.max(1, Math.floor(info.retentionBytes / info.partitions)),
    duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, info.retentionMs)),
    max_msgs: -1,
    max_msg_size: -1,
    num_replicas: info.replicas,
    description: DESCRIPTION_PREFIX + JSON.stringify(description),
  } as StreamConfig;
}

/** The description riff wrote, or undefined for another's (or none). Pure. */
export function parseDescription(description: string | undefined): Partial<StreamDescription> | undefined {
  if (description?.startsWith(DESCRIPTION_PREFIX) !== true) return undefined;
  try {
    const parsed = JSON.parse(description.slice(DESCRIPTION_PREFIX.length)) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Partial<StreamDescription>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A topic's settings rebuilt from its partitions' streams (`streams[p]` for partition p, holes
 * where a stream is missing): the partition count from the highest stream, retention and
 * replicas from the stream config, durability (and the exact retentionBytes) from the
 * description; what no stream says takes riff's defaults. Pure.
 */
export function infoFromStreams(topic: string, streams: (StreamInfo | undefined)[]): TopicInfo {
  const present = streams.filter((si): si is StreamInfo => si !== undefined);
  const first = present[0];
  if (first === undefined) throw new Error(`no stream of topic '${topic}'`);
  const partitions = streams.length;
  const described = present.map((si) => parseDescription(si.config.description)).find((d) => d !== undefined);
  const maxAgeMs = Math.round(first.config.max_age / 1e6);
  const maxBytes = first.config.max_bytes;
  return resolveTopicConfig(topic, {
    partitions,
    retentionMs: maxAgeMs > 0 ? maxAgeMs : DEFAULT_RETENTION_MS,
    retentionBytes: described?.retentionBytes ?? (maxBytes > 0 ? maxBytes * partitions : DEFAULT_RETENTION_BYTES),
    durability: described?.durability ?? "process",
    replicas: first.config.num_replicas,
  });
}
