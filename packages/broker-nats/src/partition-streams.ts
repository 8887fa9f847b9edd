import type { PartitionOffsets, StoredMessage, TopicInfo } from "@riff/broker";
import {
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  RetentionPolicy,
  type StreamConfig,
  type StreamInfo,
  StorageType,
  nanos,
} from "nats";
import { decodeMessage } from "./codec.js";
import { JsErrorCodes, apiErrorCode } from "./errors.js";
import type { NatsNames } from "./names.js";

/**
 * The streams of a topic's partitions: one stream per partition, so a partition's offsets are
 * its stream's sequences less one, with no gaps (retention only removes from the head).
 */
export class PartitionStreams {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly names: NatsNames,
  ) {}

  /** Creates the streams of partitions `from`..`info.partitions - 1`, and updates the others. */
  async ensure(info: TopicInfo, from = 0): Promise<void> {
    for (let p = 0; p < info.partitions; p++) {
      const config = this.config(info, p);
      if (p < from) {
        await this.jsm.streams.update(config.name, config);
        continue;
      }
      try {
        await this.jsm.streams.add(config);
      } catch (err) {
        if (apiErrorCode(err) !== JsErrorCodes.streamNameInUse) throw err;
        // Left from a topic of the same name whose delete did not finish: its messages are not
        // this topic's.
        await this.jsm.streams.delete(config.name);
        await this.jsm.streams.add(config);
      }
    }
  }

  /** Applies changed retention to every partition's stream. */
  async update(info: TopicInfo): Promise<void> {
    await Promise.all(
      Array.from({ length: info.partitions }, (_, p) => {
        const config = this.config(info, p);
        return this.jsm.streams.update(config.name, config);
      }),
    );
  }

  async delete(topic: string, partitions: number): Promise<void> {
    for (let p = 0; p < partitions; p++) {
      await this.jsm.streams.delete(this.names.stream(topic, p)).catch((err: unknown) => {
        if (apiErrorCode(err) !== JsErrorCodes.streamNotFound) throw err;
      });
    }
  }

  async info(topic: string, partition: number): Promise<StreamInfo> {
    return this.jsm.streams.info(this.names.stream(topic, partition));
  }

  /** Every partition's start and end offsets, and the bytes the streams hold. */
  async offsets(topic: string, partitions: number): Promise<{ offsets: PartitionOffsets[]; bytes: number }> {
    const infos = await Promise.all(Array.from({ length: partitions }, (_, p) => this.info(topic, p)));
    return {
      offsets: infos.map((si, partition) => ({ partition, ...offsetsOf(si) })),
      bytes: infos.reduce((sum, si) => sum + si.state.bytes, 0),
    };
  }

  /** Up to `limit` messages of one partition from `fromOffset` (or the oldest retained one). */
  async read(topic: string, partition: number, fromOffset: number, limit: number): Promise<StoredMessage[]> {
    const { start, end } = offsetsOf(await this.info(topic, partition));
    const first = Math.max(fromOffset, start);
    // Retention only trims the head, so exactly this many messages exist from `first` on: the
    // fetch ends as soon as they have come, without waiting for its expiry.
    const count = Math.min(limit, end - first);
    if (count <= 0) return [];
    const consumer = await this.js.consumers.get(this.names.stream(topic, partition), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: first + 1,
    });
    const out: StoredMessage[] = [];
    for await (const m of await consumer.fetch({ max_messages: count })) {
      out.push(toStored(topic, partition, m));
      if (out.length >= count) break;
    }
    return out;
  }

  /** The first offset of `partition` written at or after `timestamp`, else its end offset. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const si = await this.info(topic, partition);
    const { end } = offsetsOf(si);
    // Whole milliseconds of the newest message: below `timestamp` means every message is older.
    if (si.state.messages === 0 || Date.parse(si.state.last_ts) < timestamp) return end;
    const consumer = await this.js.consumers.get(this.names.stream(topic, partition), {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Math.max(0, timestamp)).toISOString(),
    });
    const m = await consumer.next();
    return m === null ? end : m.seq - 1;
  }

  config(info: TopicInfo, partition: number): StreamConfig {
    return {
      name: this.names.stream(info.name, partition),
      subjects: [this.names.subject(info.name, partition)],
      retention: RetentionPolicy.Limits,
      // Both durability modes store to disk; see docs/broker-nats.md for what each guarantees.
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(info.retentionMs),
      // retentionBytes is per topic, NATS limits per stream: share it evenly.
      max_bytes: Math.max(1, Math.floor(info.retentionBytes / info.partitions)),
      // Deduplication by Nats-Msg-Id (unused by riff yet) may not look back further than max_age.
      duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, info.retentionMs)),
      max_msgs: -1,
      max_msg_size: -1,
      num_replicas: 1,
      description: `riff topic '${info.name}' partition ${partition}`,
    } as StreamConfig;
  }
}

/** JetStream's default deduplication window. */
const DUPLICATE_WINDOW_MS = 120_000;

/** A stream's state as riff offsets: `start` is the oldest retained, `end` the next to write. */
export function offsetsOf(si: StreamInfo): { start: number; end: number } {
  const end = si.state.last_seq;
  return { start: si.state.messages === 0 ? end : si.state.first_seq - 1, end };
}

/** A message from a consumer as riff's stored message. */
export function toStored(topic: string, partition: number, m: JsMsg): StoredMessage {
  return decodeMessage(topic, partition, m.seq, Math.floor(m.info.timestampNanos / 1e6), m.data, m.headers);
}
