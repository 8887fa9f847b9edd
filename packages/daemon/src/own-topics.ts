import { toRiffError, type Logger } from "@riff/core";
import type { Broker, TopicConfig, TopicInfo } from "@riff/broker";

/**
 * Makes one of riff's own topics (the dead letters, the invocation records) unless it exists.
 * They are riff's: if a topic's record was lost (NATS) while its stream holds messages, riff
 * takes it back from the stream itself rather than refusing to start.
 */
export async function ensureOwnTopic(broker: Broker, name: string, config: TopicConfig, logger: Logger): Promise<TopicInfo> {
  try {
    return await broker.ensureTopic(name, config);
  } catch (err) {
    if (toRiffError(err).code !== "RIFF_TOPIC_UNRECORDED" || broker.recoverTopic === undefined) throw err;
    logger.warn(`the record of topic '${name}' was lost; taking it back from its stream`, { err: String(err) });
    return broker.recoverTopic(name);
  }
}
