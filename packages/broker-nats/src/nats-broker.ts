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
  UnrecordedTopic,
} from "@riff/broker";
import { nuid } from "nats";
import { checkReadArgs } from "@riff/broker/kit";
import { BrokerConnection, type NatsHealth } from "./connection.js";
import { brokerUnavailable, invalidArgument, natsFailed, notRunning, topicNotFound } from "./errors.js";
import { type NatsNames, natsNames } from "./names.js";
import { type AppendListener, type NatsTopic, type TopicContext } from "./nats-topic.js";
import { type NatsBrokerOptions, type ResolvedNatsBrokerOptions, resolveNatsBrokerOptions } from "./options.js";
import { type Session, openSession } from "./session.js";
import { TopicCatalog } from "./topic-catalog.js";
import { withPatience } from "./patience.js";

/** `created` → `starting` → `running` → `stopping` → `stopped`; calls succeed only when running. */
export type NatsBrokerState = "created" | "starting" | "running" | "stopping" | "stopped";

/** A session and the topics on it. */
interface Live extends Session {
  catalog: TopicCatalog;
}

/**
 * riff's log on NATS JetStream: one stream per partition, topic settings and group offsets in KV
 * buckets, consumer groups spread over every instance sharing the prefix (riff nodes), each
 * partition leased to one of them. See docs/broker-nats.md and docs/cluster.md.
 */
export class NatsBroker implements Broker, AsyncDisposable {
  private current: NatsBrokerState = "created";
  private readonly options: ResolvedNatsBrokerOptions;
  private readonly logger: Logger;
  private readonly names: NatsNames;
  /** Every message id this instance publishes starts with it (see onAppend). */
  private readonly idPrefix = nuid.next();
  private live: Live | undefined;
  private lastHealth: NatsHealth = { connected: false, since: Date.now() };
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

  /** Copies a topic gets when it does not say (found at start from the cluster); 1 before the start. */
  get defaultReplicas(): number {
    return this.live?.defaultReplicas ?? 1;
  }

  /** This instance's id among the instances sharing the prefix (see NatsBrokerOptions.instance). */
  get instance(): string {
    return this.options.instance;
  }

  /** Whether the broker reaches NATS now, since when, through which server. */
  health(): NatsHealth {
    return this.live?.conn.health() ?? { ...this.lastHealth };
  }

  /**
   * Connects, opens (or creates) the KV bucket and loads the topics. Fails at once with
   * RIFF_BROKER_UNAVAILABLE if no server answers; once connected, it reconnects for ever.
   */
  async start(): Promise<void> {
    if (this.current !== "created") throw new RiffError("RIFF_INTERNAL", `cannot start a broker that is ${this.current}`);
    this.current = "starting";
    const { servers } = this.options;
    let conn: BrokerConnection;
    try {
      conn = await BrokerConnection.open(servers, this.options.timeoutMs, this.logger, this.options.auth, `riff-broker-${this.options.instance}`);
    } catch (err) {
      this.current = "stopped";
      throw err;
    }
    try {
      const session = await openSession(conn, this.options, this.names, this.idPrefix, this.logger);
      const { js, readers, publisher, streams, meta, offsets, coordinator } = session;
      const ctx: TopicContext = {
        js,
        jsm: readers,
        publisher,
        streams,
        meta,
        offsets,
        coordinator,
        names: this.names,
        idPrefix: this.idPrefix,
        unavailable: () => brokerUnavailable(servers, conn.health()),
        readAhead: this.options.readAhead,
        logger: this.logger,
        listeners: (topic) => this.listeners.get(topic),
        track: (work) => this.track(work),
        onReconnect: (fn) => conn.onChange((event) => event === "reconnect" && fn()),
      };
      const catalog = new TopicCatalog(session, ctx, this.logger, () => this.running());
      this.live = { ...session, catalog };
      for (const info of await withPatience("reading the topics", () => meta.listTopics(), this.logger)) catalog.adopt(info);
    } catch (err) {
      this.current = "stopped";
      this.live = undefined;
      await conn.nc.close();
      throw natsFailed(`starting the NATS broker at ${servers.join(", ")}`, err);
    }
    this.current = "running";
    const { defaultReplicas } = this.live;
    const topics = this.live.catalog.open.size;
    this.logger.info("broker started", { servers, prefix: this.options.prefix, topics, replicas: defaultReplicas });
  }

  /** Lets writes under way finish, ends every consumer's iteration, and closes the connection. */
  async stop(): Promise<void> {
    if (this.current === "stopping" || this.current === "stopped") return;
    const live = this.live;
    this.current = "stopping";
    live?.catalog.close();
    await Promise.allSettled([...this.inFlight]);
    if (live !== undefined) {
      this.lastHealth = { ...live.conn.health(), connected: false, since: Date.now() };
      await live.close();
    }
    this.live = undefined;
    this.current = "stopped";
    this.logger.info("broker stopped");
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async createTopic(name: string, config?: TopicConfig): Promise<TopicInfo> {
    return this.catalog().create(name, config);
  }

  async ensureTopic(name: string, config: TopicConfig = {}): Promise<TopicInfo> {
    return this.catalog().ensure(name, config);
  }

  async listTopics(): Promise<TopicInfo[]> {
    const live = this.running();
    const infos = await live.meta.listTopics().catch((err: unknown) => {
      throw natsFailed("listing topics", err);
    });
    return infos.sort((a, b) => a.name.localeCompare(b.name));
  }

  async getTopic(name: string, options?: { fresh?: boolean }): Promise<TopicInfo | undefined> {
    // Also takes a partition count another instance raised; a record that cannot be read now
    // (an election) leaves what this instance knows.
    if (options?.fresh === true) await this.catalog().forgetIfGone(name);
    const t = await this.catalog().find(name);
    return t === undefined ? undefined : { ...t.info };
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const t = await this.topic(name);
    const { offsets, bytes } = await this.running().streams.offsets(name, t.info.partitions);
    return { ...t.info, offsets, sizeBytes: bytes, groups: await t.groupLags(offsets) };
  }

  /** Deletes the topic's streams and records; also the streams of an unrecorded topic. */
  async deleteTopic(name: string): Promise<void> {
    await this.catalog().delete(name);
  }

  async setPartitions(name: string, partitions: number): Promise<TopicInfo> {
    return this.catalog().setPartitions(name, partitions);
  }

  async configureTopic(name: string, config: Omit<TopicConfig, "partitions">): Promise<TopicInfo> {
    return this.catalog().configure(name, config);
  }

  /**
   * Records a topic again from its streams, keeping every message: partitions from the streams
   * that exist, retention and replicas from their config, durability from their description.
   * A topic with a record is returned as it is; RIFF_TOPIC_NOT_FOUND when no stream exists.
   */
  async recoverTopic(name: string): Promise<TopicInfo> {
    return this.catalog().recover(name);
  }

  async unrecordedTopics(): Promise<UnrecordedTopic[]> {
    return this.catalog().unrecorded();
  }

  publish(topic: string, message: PublishMessage): Promise<Position> {
    return this.publishBatch(topic, [message]).then((positions) => positions[0] as Position);
  }

  publishBatch(topic: string, messages: PublishMessage[]): Promise<Position[]> {
    try {
      const live = this.running();
      const t = live.catalog.open.get(topic);
      // The common case sends at once, in call order, so that publishes keep their order.
      if (t !== undefined) return this.track(t.publish(messages, this.options.maxMessageBytes, live.maxPayload));
      return this.track(this.topic(topic).then((found) => found.publish(messages, this.options.maxMessageBytes, live.maxPayload)));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  consume(topic: string, group: string, options: ConsumeOptions = {}): GroupConsumer {
    // Not refused while disconnected: a member outlives a reconnect, its feeds resume by themselves.
    if (this.current !== "running" || this.live === undefined) throw notRunning(this.current);
    const t = this.live.catalog.open.get(topic);
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
    return Promise.all(Array.from({ length: t.info.partitions }, (_, p) => streams.offsetForTimestamp(topic, p, timestamp)));
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
   * Calls `listener` after messages are appended to `topic`: at once with the positions of this
   * instance's own publishes, in publish order, and, while any listener is on, with those of
   * other instances' as the server delivers them (see remote-appends.ts).
   */
  onAppend(topic: string, listener: AppendListener): () => void {
    const set = this.listeners.get(topic) ?? new Set<AppendListener>();
    this.listeners.set(topic, set);
    set.add(listener);
    this.listenersChanged(topic);
    return () => {
      set.delete(listener);
      this.listenersChanged(topic);
    };
  }

  private listenersChanged(topic: string): void {
    const catalog = this.live?.catalog;
    const t = catalog?.open.get(topic);
    if (t !== undefined) t.listenersChanged();
    // A topic this instance has not opened yet (another made it): opening it starts the watch.
    else if (this.current === "running" && (this.listeners.get(topic)?.size ?? 0) > 0) void catalog?.find(topic).catch(() => undefined);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const done = (): void => void this.inFlight.delete(work);
    work.then(done, done);
    return work;
  }

  /** The topic, or RIFF_TOPIC_UNRECORDED / RIFF_TOPIC_NOT_FOUND. */
  private topic(name: string): Promise<NatsTopic> {
    return this.catalog().topic(name);
  }

  private catalog(): TopicCatalog {
    return this.running().catalog;
  }

  /** The session, or why there is none: stopped, or NATS unreachable right now. */
  private running(): Live {
    if (this.current !== "running" || this.live === undefined) throw notRunning(this.current);
    this.live.conn.check();
    return this.live;
  }
}

/** Creates the NATS JetStream broker; call `start()` before use. */
export function createNatsBroker(options: NatsBrokerOptions = {}): NatsBroker {
  return new NatsBroker(options);
}
