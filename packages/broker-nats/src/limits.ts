import type { TopicConfig, TopicInfo } from "@riff/broker";
import { resolveTopicConfig as resolveCommon } from "@riff/broker/kit";
import { invalidArgument } from "./errors.js";

/** JetStream's bounds on a stream's max_age: at least 100 ms; nanoseconds must fit its JSON. */
const MIN_RETENTION_MS = 100;
const MAX_RETENTION_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1e6);

/**
 * The shared checks, and JetStream's own limits on retention, said as riff says them;
 * `defaultReplicas` is the broker's (found from the cluster at start).
 */
export function resolveTopicConfig(name: string, config: TopicConfig = {}, defaultReplicas = 1): TopicInfo {
  const info = resolveCommon(name, config, defaultReplicas);
  if (info.retentionMs < MIN_RETENTION_MS || info.retentionMs > MAX_RETENTION_MS) {
    throw invalidArgument(
      `topic '${name}': retentionMs must be from ${MIN_RETENTION_MS} ms to about 285 years on NATS JetStream, got ${info.retentionMs}`,
      "for example --retention 1h or 7d",
    );
  }
  return info;
}
