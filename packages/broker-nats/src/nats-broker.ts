import type { Logger } from "@riff/core";
import { RiffError } from "@riff/core";
import type {
  Broker,
  ConsumeOptions,
  GroupConsumer,
  GroupLag,
  PartitionOffsets,
  Position,
  PublishMessage,
  SeekTarget,
  StoredMessage,
  TopicConfig,
  TopicDescription,
  TopicInfo,
} from "@riff/broker";
import { type JetStreamClient, type NatsConnection, connect } from "nats";
import {
  invalidArgument,
  jetStreamDisabled,
  natsFailed,
  notRunning,
  partitionsDecrease,
  serverUnreachable,
  topicExists,
  topicNotFound,
} from "./errors.js";
import { MetaStore } from "./meta-store.js";
import { type NatsNames, natsNames } from "./names.js";
import { type AppendListener, NatsTopic, type TopicContext } from "./nats-topic.js";
import { type NatsBrokerOptions, type ResolvedNatsBrokerOptions, resolveNatsBrokerOptions } from "./options.js";
import { PartitionStreams } from "./partition-streams.js";
import { checkPartitions, checkReadArgs } from "@riff/broker/kit";
import { resolveTopicConfig } from "./limits.js";

/** `created` → `starting` → `running` → `stopping` → `stopped`; calls succeed only when running. */
export type NatsBrokerState = "created" | "starting" | "running" | "stopping" | "stopped";

/** The connection and what is built on it; present while running. */
interface Live {
  nc: NatsConnection;
  js: JetStreamClient;
  streams: PartitionStreams;
  meta: MetaStore;
  ctx: TopicContext;
  /** The server's largest message, headers included. */
  maxPayload: number;
}

/**
 * riff's log on NATS JetStream: one stream per partition, topic settings and group offsets in a
 * KV bucket, consumer groups coordinated inside this instance. See docs/broker-nats.md.
 */
export class NatsBroker implements Broker, AsyncDisposable {
  private current: NatsBrokerState = "created";
  private readonly options: ResolvedNatsBrokerOptions;
  private readonly logger: Logger;
  private readonly names: NatsNames;
  private live: Live | undefined;
  private readonly topics = new Map<string, NatsTopic>();
  private readonly listeners = new Map<string, Set<AppendListener>>();
  /** Publishes and other writes under way; stop() lets them finish. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: NatsBrokerOptions = {}) {
    this.options = resolveNatsBrokerOptions(options);
    this.logger = this.options.logger.child({ component: "broker", broker: "nats" });
    this.names = natsNames(this.options.prefix);
  }

  get state(): NatsBrokerState {
    return this.current;
  }

  /** Connects, opens (or creates) the KV bucket and loads the topics. */
  async start(): Promise<void> {
    if (this.current !== "created") throw new RiffError("RIFF_INTERNAL", `cannot start a broker that is ${this.current}`);
    this.current = "starting";
    const { servers, timeoutMs } = this.options;
    let nc: NatsConnection;
    try {
      nc = await connect({ servers, timeout: timeoutMs, name: "riff-broker" });
    } catch (err) {
      this.current = "stopped";
      throw serverUnreachable(servers, err);
    }
    try {
      const jsm = await nc.jetstreamManager({ timeout: timeoutMs }).catch((err: unknown) => {
        throw jetStreamDisabled(servers, err);
      });
      const js = nc.jetstream({ timeout: timeoutMs });
      const streams = new PartitionStreams(jsm, js, this.names);
      const meta = await MetaStore.open(js, this.names.bucket, timeoutMs);
      const ctx: TopicContext = {
        js,
        streams,
        meta,
        names: this.names,
        readAhead: this.options.readAhead,
        logger: this.logger,
        listeners: (topic) => this.listeners.get(topic),
        track: (work) => this.track(work),
      };
      this.live = { nc, js, streams, meta, ctx, maxPayload: nc.info?.max_payload ?? 1024 * 1024 };
      for (const info of await meta.listTopics()) this.topics.set(info.name, new NatsTopic(info, ctx));
    } catch (err) {
      this.current = "stopped";
      await nc.close();
      throw natsFailed(`starting the NATS broker at ${servers.join(", ")}`, err);
    }
    this.current = "running";
    this.logger.info("broker started", { servers, prefix: this.options.prefix, topics: this.topics.size });
  }

  /** Lets writes under way finish, ends every consumer's iteration, and closes the connection. */
  async stop(): Promise<void> {
    if (this.current === "stopping" || this.current === "stopped") return;
    const live = this.live;
    this.current = "stopping";
    for (const t of this.topics.values()) t.close();
    this.topics.clear();
    await Promise.allSettled([...this.inFlight]);
    if (live !== undefined) await live.nc.drain().catch(() => live.nc.close());
    this.live = undefined;
    this.current = "stopped";
    this.logger.info("broker stopped");
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async createTopic(name: string, config?: TopicConfig): Promise<TopicInfo> {
    const live = this.running();
    const info = resolveTopicConfig(name, config);
    if (this.topics.has(name)) throw topicExists(name);
    await live.meta.createTopic(info);
    try {
      await live.streams.ensure(info);
    } catch (err) {
      await live.streams.delete(name, info.partitions).catch(() => {});
      await live.meta.deleteTopic(name).catch(() => {});
      throw natsFailed(`creating the streams of topic '${name}'`, err);
    }
    this.topics.set(name, new NatsTopic(info, live.ctx));
    this.logger.info("topic created", { ...info });
    return { ...info };
  }

  async ensureTopic(name: string, config: TopicConfig = {}): Promise<TopicInfo> {
    const t = await this.find(name);
    if (t === undefined) {
      try {
        return await this.createTopic(name, config);
      } catch (err) {
        // Another instance created it in between: take theirs, as below.
        if (!(err instanceof RiffError && err.code === "RIFF_TOPIC_EXISTS")) throw err;
        return this.ensureTopic(name, config);
      }
    }
    resolveTopicConfig(name, config);
    if (config.partitions !== undefined && config.partitions > t.info.partitions) {
      await this.setPartitions(name, config.partitions);
    }
    const { retentionMs, retentionBytes } = t.info;
    const grown = {
      retentionMs: Math.max(retentionMs, config.retentionMs ?? 0),
      retentionBytes: Math.max(retentionBytes, config.retentionBytes ?? 0),
    };
    if (grown.retentionMs !== retentionMs || grown.retentionBytes !== retentionBytes) {
      return this.configureTopic(name, grown);
    }
    return { ...t.info };
  }

  async listTopics(): Promise<TopicInfo[]> {
    const live = this.running();
    const infos = await live.meta.listTopics().catch((err: unknown) => {
      throw natsFailed("listing topics", err);
    });
    return infos.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    const t = await this.find(name);
    return t === undefined ? undefined : { ...t.info };
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const t = await this.topic(name);
    const { offsets, bytes } = await this.running().streams.offsets(name, t.info.partitions);
    return { ...t.info, offsets, sizeBytes: bytes, groups: await t.groupLags(offsets) };
  }

  async deleteTopic(name: string): Promise<void> {
    const live = this.running();
    const t = await this.topic(name);
    this.topics.delete(name);
    t.close();
    await live.streams.delete(name, t.info.partitions);
    await live.meta.deleteTopic(name);
    this.logger.info("topic deleted", { topic: name });
  }

  async setPartitions(name: string, partitions: number): Promise<TopicInfo> {
    const live = this.running();
    const t = await this.topic(name);
    checkPartitions(name, partitions);
    const current = t.info.partitions;
    if (partitions < current) throw partitionsDecrease(name, current, partitions);
    if (partitions > current) {
      const info = { ...t.info, partitions };
      await live.streams.ensure(info, current);
      await live.meta.putTopic(info);
      t.setPartitions(info);
      this.logger.info("partitions raised", { topic: name, from: current, to: partitions });
    }
    return { ...t.info };
  }

  async configureTopic(name: string, config: Omit<TopicConfig, "partitions">): Promise<TopicInfo> {
    const live = this.running();
    const t = await this.topic(name);
    const { partitions, retentionMs, retentionBytes, durability } = t.info;
    // Only the fields named here: a stray `partitions` in `config` must not change the count.
    const info = resolveTopicConfig(name, {
      partitions,
      retentionMs: config.retentionMs ?? retentionMs,
      retentionBytes: config.retentionBytes ?? retentionBytes,
      durability: config.durability ?? durability,
    });
    await live.streams.update(info).catch((err: unknown) => {
      throw natsFailed(`changing the streams of topic '${name}'`, err);
    });
    await live.meta.putTopic(info);
    t.info = info;
    return { ...info };
  }

  publish(topic: string, message: PublishMessage): Promise<Position> {
    return this.publishBatch(topic, [message]).then((positions) => positions[0] as Position);
  }

  publishBatch(topic: string, messages: PublishMessage[]): Promise<Position[]> {
    try {
      const live = this.running();
      const t = this.topics.get(topic);
      // The common case sends at once, in call order, so that publishes keep their order.
      if (t !== undefined) return this.track(t.publish(messages, this.options.maxMessageBytes, live.maxPayload));
      return this.track(this.topic(topic).then((found) => found.publish(messages, this.options.maxMessageBytes, live.maxPayload)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  consume(topic: string, group: string, options: ConsumeOptions = {}): GroupConsumer {
    this.running();
    const t = this.topics.get(topic);
    if (t === undefined) throw topicNotFound(topic);
    return t.consume(group, options);
  }

  async read(topic: string, partition: number, fromOffset: number, limit: number): Promise<StoredMessage[]> {
    const t = await this.topic(topic);
    checkReadArgs(t.info, partition, fromOffset, limit);
    return this.running()
      .streams.read(topic, partition, fromOffset, limit)
      .catch((err: unknown) => {
        throw natsFailed(`reading partition ${partition} of topic '${topic}'`, err);
      });
  }

  async endOffsets(topic: string): Promise<PartitionOffsets[]> {
    return (await this.topic(topic)).offsets();
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]> {
    const t = await this.topic(topic);
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
      throw invalidArgument(`a timestamp must be a number of ms since the epoch, got ${String(timestamp)}`);
    }
    const { streams } = this.running();
    return Promise.all(
      Array.from({ length: t.info.partitions }, (_, p) => streams.offsetForTimestamp(topic, p, timestamp)),
    );
  }

  async lag(topic: string, group: string): Promise<GroupLag> {
    return (await this.topic(topic)).lag(group);
  }

  async seek(topic: string, group: string, target: SeekTarget): Promise<void> {
    await this.track((await this.topic(topic)).seek(group, target));
  }

  /** Forgets a group and its committed offsets; refused while it has members here. */
  async deleteGroup(topic: string, group: string): Promise<void> {
    await (await this.topic(topic)).deleteGroup(group);
  }

  /**
   * Calls `listener` after this instance's own publishes to `topic`; messages other instances
   * publish reach consumers, but not these listeners (see docs/broker-nats.md).
   */
  onAppend(topic: string, listener: AppendListener): () => void {
    const set = this.listeners.get(topic) ?? new Set<AppendListener>();
    this.listeners.set(topic, set);
    set.add(listener);
    return () => void set.delete(listener);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => void this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /** The topic, from this instance's cache or else the KV bucket (another instance made it). */
  private async find(name: string): Promise<NatsTopic | undefined> {
    const live = this.running();
    const cached = this.topics.get(name);
    if (cached !== undefined) return cached;
    const info = await live.meta.getTopic(name).catch((err: unknown) => {
      throw natsFailed(`looking up topic '${name}'`, err);
    });
    if (info === undefined || this.current !== "running") return undefined;
    const t = this.topics.get(name) ?? new NatsTopic(info, live.ctx);
    this.topics.set(name, t);
    return t;
  }

  private async topic(name: string): Promise<NatsTopic> {
    const t = await this.find(name);
    if (t === undefined) throw topicNotFound(name);
    return t;
  }

  private running(): Live {
    if (this.current !== "running" || this.live === undefined) throw notRunning(this.current);
    return this.live;
  }
}

/** Creates the NATS JetStream broker; call `start()` before use. */
export function createNatsBroker(options: NatsBrokerOptions = {}): NatsBroker {
  return new NatsBroker(options);
}
