import { isValidName } from "@riff/core";

/**
 * Where riff keeps things on the NATS server, all under one prefix. Topic names are DNS-1123
 * labels (no '.', '_', '*' or '>'), so they are safe as subject tokens and inside stream names,
 * and `<prefix>_<topic>_<p>` cannot be read two ways.
 */
export interface NatsNames {
  /** The stream holding partition `p` of `topic`; one stream per partition keeps offsets dense. */
  stream(topic: string, p: number): string;
  /** The one subject that stream listens on. */
  subject(topic: string, p: number): string;
  /** A wildcard matching the subjects of every partition of `topic`. */
  topicSubjects(topic: string): string;
  /** The partition whose stream `stream` is, if it is one of `topic`'s. */
  partitionOf(topic: string, stream: string): number | undefined;
  /** The topic and partition whose stream `stream` is, if it is a topic's under this prefix. */
  topicOf(stream: string): { topic: string; partition: number } | undefined;
  /** A wildcard matching the subjects of every topic's partitions under this prefix. */
  readonly allTopicSubjects: string;
  /** The KV bucket holding topic settings. */
  readonly bucket: string;
  /** The KV bucket holding consumer groups' committed offsets. */
  readonly offsets: string;
  /** The KV bucket (with a ttl) holding the leases on partitions. */
  readonly leases: string;
  /** Subject root of consumer-group membership heartbeats (outside any topic's subjects). */
  readonly groupsSubject: string;
  /** Where an instance tells the others the name of a topic it deleted (core NATS, a hint). */
  readonly topicsDeletedSubject: string;
  /** Start of every stream name this prefix owns (the KV bucket's stream is `KV_<bucket>`). */
  readonly streamPrefix: string;
}

/** The names under `prefix`. Pure. */
export function natsNames(prefix: string): NatsNames {
  return {
    stream: (topic, p) => `${prefix}_${topic}_${p}`,
    subject: (topic, p) => `${prefix}.${topic}.${p}`,
    topicSubjects: (topic) => `${prefix}.${topic}.*`,
    partitionOf(topic, stream) {
      const base = `${prefix}_${topic}_`;
      const rest = stream.slice(base.length);
      return stream.startsWith(base) && /^(0|[1-9]\d{0,5})$/.test(rest) ? Number(rest) : undefined;
    },
    topicOf(stream) {
      const m = stream.startsWith(`${prefix}_`) ? /^(.+)_(0|[1-9]\d{0,5})$/.exec(stream.slice(prefix.length + 1)) : null;
      const topic = m?.[1];
      return topic === undefined || !isValidName(topic) ? undefined : { topic, partition: Number(m?.[2]) };
    },
    allTopicSubjects: `${prefix}.*.*`,
    bucket: `${prefix}_meta`,
    offsets: `${prefix}_offsets`,
    leases: `${prefix}_leases`,
    groupsSubject: `_RIFF.${prefix}.groups`,
    topicsDeletedSubject: `_RIFF.${prefix}.topics-deleted`,
    streamPrefix: `${prefix}_`,
  };
}

/** KV key of a topic's settings. */
export function topicKey(topic: string): string {
  return `t.${topic}`;
}
