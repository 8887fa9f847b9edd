import type { PartitionOffsets, StoredMessage, TopicInfo } from "@riff/broker";
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg, type StreamInfo } from "nats";
import { openReader } from "./reader.js";
import { decodeMessage } from "./codec.js";
import { type HeldStream, JsErrorCodes, apiErrorCode, electionLike, notAnswered, topicNotFound, topicUnrecorded } from "./errors.js";
import type { NatsNames } from "./names.js";
import { streamConfig } from "./stream-config.js";

/** Options of {@link PartitionStreams.ensure}. */
export interface EnsureOptions {
  /** Partitions below this exist already and are only updated. @default 0 */
  from?: number;
  /** Receives the name of every stream created. */
  created?: string[];
  /** Takes over existing streams that hold messages. @default false */
  adopt?: boolean;
}

/**
 * The streams of a topic's partitions: one stream per partition, so a partition's offsets are
 * its stream's sequences less one, with no gaps (retention only removes from the head).
 */
export class PartitionStreams {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly names: NatsNames,
    /**
     * A read's pull expiry, which nats.js also waits between attempts to create the read's
     * consumer: creating one can time out for seconds after a cluster node dies, and its
     * default of 30 s between attempts made such a read look hung.
     */
    private readonly timeoutMs: number,
    /** Where readers are made (see openReader). */
    private readonly readers: JetStreamManager,
  ) {}

  /**
   * Creates the streams of partitions `from`..`info.partitions - 1` and updates the others.
   * A stream of that name left over, empty, is adopted (its config updated); one that holds
   * messages is refused with RIFF_TOPIC_UNRECORDED and left alone (riff never deletes messages
   * the user did not ask it to), unless `adopt` (recoverTopic) says they are the topic's. The
   * names of the streams made are pushed to `created`, so a caller can undo exactly those.
   */
  async ensure(info: TopicInfo, { from = 0, created = [], adopt = false }: EnsureOptions = {}): Promise<void> {
    for (let p = 0; p < info.partitions; p++) {
      const config = streamConfig(this.names, info, p);
      if (p < from) {
        await this.jsm.streams.update(config.name, config);
        continue;
      }
      try {
        await this.jsm.streams.add(config);
        created.push(config.name);
      } catch (err) {
        if (apiErrorCode(err) !== JsErrorCodes.streamNameInUse) throw err;
        const si = await this.jsm.streams.info(config.name);
        if (si.state.messages > 0 && !adopt) throw topicUnrecorded(info.name, [{ name: config.name, messages: si.state.messages }]);
        await this.jsm.streams.update(config.name, config);
      }
    }
  }

  /** Applies changed settings (retention, replicas, durability) to every partition's stream. */
  async update(info: TopicInfo): Promise<void> {
    await Promise.all(
      Array.from({ length: info.partitions }, (_, p) => {
        const config = streamConfig(this.names, info, p);
        return this.jsm.streams.update(config.name, config);
      }),
    );
  }

  /** Deletes the streams named; for undoing a create. */
  async deleteNamed(names: string[]): Promise<void> {
    await Promise.allSettled(names.map((name) => this.jsm.streams.delete(name)));
  }

  /**
   * Deletes the topic's streams: partitions 0..`partitions - 1` and any other stream of the
   * topic's name that exists (one left by an earlier topic of that name, or by a count that
   * was not recorded). Only for an explicit deleteTopic.
   */
  async delete(topic: string, partitions: number): Promise<void> {
    const names = new Set(Array.from({ length: partitions }, (_, p) => this.names.stream(topic, p)));
    for (const si of await this.existing(topic)) if (si !== undefined) names.add(si.config.name);
    for (const name of names) {
      await this.jsm.streams.delete(name).catch((err: unknown) => {
        if (apiErrorCode(err) !== JsErrorCodes.streamNotFound) throw err;
      });
    }
  }

  /**
   * The topic's streams that exist, by partition (holes where one is missing): those named
   * `<prefix>_<topic>_<p>`, found by the topic's subjects in one listing.
   */
  async existing(topic: string): Promise<(StreamInfo | undefined)[]> {
    const out: (StreamInfo | undefined)[] = [];
    for await (const si of this.jsm.streams.list(this.names.topicSubjects(topic))) {
      const p = this.names.partitionOf(topic, si.config.name);
      if (p !== undefined) out[p] = si;
    }
    return Array.from({ length: out.length }, (_, p) => out[p]);
  }

  /** Every topic's streams under this prefix that hold messages, by topic (in partition order), in one listing. */
  async heldByTopic(): Promise<Map<string, HeldStream[]>> {
    const found = new Map<string, { partition: number; stream: HeldStream }[]>();
    for await (const si of this.jsm.streams.list(this.names.allTopicSubjects)) {
      const of = this.names.topicOf(si.config.name);
      if (of === undefined || si.state.messages === 0) continue;
      found.set(of.topic, [...(found.get(of.topic) ?? []), { partition: of.partition, stream: { name: si.config.name, messages: si.state.messages } }]);
    }
    return new Map([...found].map(([topic, list]) => [topic, list.sort((a, b) => a.partition - b.partition).map((x) => x.stream)]));
  }

  /** The topic's streams that hold messages, with how many. */
  async held(topic: string): Promise<HeldStream[]> {
    return (await this.existing(topic))
      .filter((si): si is StreamInfo => si !== undefined && si.state.messages > 0)
      .map((si) => ({ name: si.config.name, messages: si.state.messages }));
  }

  /** A partition's stream; RIFF_TOPIC_NOT_FOUND when it is gone (the topic was deleted, perhaps through another node). */
  async info(topic: string, partition: number): Promise<StreamInfo> {
    return this.jsm.streams.info(this.names.stream(topic, partition)).catch((err: unknown) => {
      if (apiErrorCode(err) === JsErrorCodes.streamNotFound) throw topicNotFound(topic);
      throw electionLike(err) ? notAnswered(`about partition ${partition} of topic '${topic}'`, err) : err;
    });
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
    const consumer = await openReader(this.readers, this.js, this.names.stream(topic, partition), {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: first + 1,
    }).catch((err: unknown) => {
      throw electionLike(err) ? notAnswered(`a read of partition ${partition} of topic '${topic}'`, err) : err;
    });
    const out: StoredMessage[] = [];
    try {
      for await (const m of await consumer.fetch({ max_messages: count, expires: this.timeoutMs })) {
        out.push(toStored(topic, partition, m));
        if (out.length >= count) break;
      }
    } finally {
      consumer.delete().catch(() => undefined);
    }
    return out;
  }

  /** The first offset of `partition` written at or after `timestamp`, else its end offset. */
  async offsetForTimestamp(topic: string, partition: number, timestamp: number): Promise<number> {
    const si = await this.info(topic, partition);
    const { end } = offsetsOf(si);
    // Whole milliseconds of the newest message: below `timestamp` means every message is older.
    if (si.state.messages === 0 || Date.parse(si.state.last_ts) < timestamp) return end;
    const consumer = await openReader(this.readers, this.js, this.names.stream(topic, partition), {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(Math.max(0, timestamp)).toISOString(),
    });
    try {
      const m = await consumer.next({ expires: this.timeoutMs });
      return m === null ? end : m.seq - 1;
    } finally {
      consumer.delete().catch(() => undefined);
    }
  }
}

/** A stream's state as riff offsets: `start` is the oldest retained, `end` the next to write. */
export function offsetsOf(si: StreamInfo): { start: number; end: number } {
  const end = si.state.last_seq;
  return { start: si.state.messages === 0 ? end : si.state.first_seq - 1, end };
}

/** A message from a consumer as riff's stored message. */
export function toStored(topic: string, partition: number, m: JsMsg): StoredMessage {
  return decodeMessage(topic, partition, m.seq, Math.floor(m.info.timestampNanos / 1e6), m.data, m.headers);
}
