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
  /** The KV bucket holding topic settings and group offsets. */
  readonly bucket: string;
  /** Start of every stream name this prefix owns (the KV bucket's stream is `KV_<bucket>`). */
  readonly streamPrefix: string;
}

/** The names under `prefix`. Pure. */
export function natsNames(prefix: string): NatsNames {
  return {
    stream: (topic, p) => `${prefix}_${topic}_${p}`,
    subject: (topic, p) => `${prefix}.${topic}.${p}`,
    bucket: `${prefix}_meta`,
    streamPrefix: `${prefix}_`,
  };
}

/** KV key of a topic's settings. */
export function topicKey(topic: string): string {
  return `t.${topic}`;
}

/**
 * KV key prefix of a group's committed offsets. Group names are any text; KV keys allow only
 * `[-/_=.A-Za-z0-9]`, so the name goes in as base64url, which uses just those characters.
 */
export function groupKeyPrefix(topic: string, group?: string): string {
  return group === undefined ? `g.${topic}.` : `g.${topic}.${Buffer.from(group).toString("base64url")}.`;
}

/** KV key of one partition's committed offset of a group. */
export function groupKey(topic: string, group: string, partition: number): string {
  return `${groupKeyPrefix(topic, group)}${partition}`;
}

/** The group and partition of a key made by {@link groupKey}, or undefined. */
export function parseGroupKey(key: string): { topic: string; group: string; partition: number } | undefined {
  const m = /^g\.([a-z0-9-]+)\.([A-Za-z0-9_-]*)\.(\d+)$/.exec(key);
  if (m === null) return undefined;
  const [, topic = "", encoded = "", partition = ""] = m;
  return { topic, group: Buffer.from(encoded, "base64url").toString(), partition: Number(partition) };
}
