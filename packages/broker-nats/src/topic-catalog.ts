import type { Logger } from "@riff/core";
import type { Subscription } from "nats";
import { RiffError, assertValidName, isValidName } from "@riff/core";
import type { TopicConfig, TopicInfo, UnrecordedTopic } from "@riff/broker";
import { REPLICA_COUNTS, checkPartitions } from "@riff/broker/kit";
import { describeCluster } from "./cluster.js";
import {
  JsErrorCodes,
  apiErrorCode,
  invalidArgument,
  natsFailed,
  partitionsDecrease,
  replicasUnavailable,
  replicasUnplaceable,
  topicExists,
  topicNotFound,
  topicUnrecorded,
} from "./errors.js";
import { resolveTopicConfig } from "./limits.js";
import { NatsTopic, type TopicContext } from "./nats-topic.js";
import type { Session } from "./session.js";
import { infoFromStreams } from "./stream-config.js";

/**
 * @default 5 s: how often the open topics' records are read again, to forget a topic another
 * instance deleted whose notice (on core NATS, at most once) did not arrive.
 */
export const TOPIC_SWEEP_MS = 5000;

const text = new TextDecoder();

/**
 * The topics of one running broker: those it has open, and their records (KV) and streams on
 * the server. Streams that hold messages are deleted only by an explicit deleteTopic: a topic
 * whose record is gone while its streams hold messages is refused (RIFF_TOPIC_UNRECORDED) until
 * the user recovers or deletes it.
 *
 * A topic deleted through another instance is forgotten here too: that instance tells the name
 * on core NATS, the open topics are looked at every {@link TOPIC_SWEEP_MS}, and a create or
 * ensure looks first. Otherwise this instance would keep publishing to streams that are gone
 * (a 503 after the publisher's retries, not a 404) and call a re-create "unchanged".
 */
export class TopicCatalog {
  /** The topics this instance has open, by name. */
  readonly open = new Map<string, NatsTopic>();
  private closed = false;
  private readonly deletions: Subscription;
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly session: Session,
    private readonly ctx: TopicContext,
    private readonly logger: Logger,
    /** The session, or throws why it may not be used now (stopped, NATS unreachable). */
    private readonly check: () => void,
  ) {
    this.deletions = session.conn.nc.subscribe(ctx.names.topicsDeletedSubject, {
      callback: (_err, msg) => void this.forgetIfGone(text.decode(msg.data)),
    });
    this.sweep = setInterval(() => {
      for (const name of [...this.open.keys()]) void this.forgetIfGone(name);
    }, TOPIC_SWEEP_MS).unref();
  }

  /**
   * Records the topic and makes its streams. Refused with RIFF_TOPIC_UNRECORDED when streams of
   * that name hold messages but the topic has no record (the KV bucket was lost): those are
   * kept until the user recovers or deletes them. Empty leftovers are taken over.
   */
  async create(name: string, config?: TopicConfig): Promise<TopicInfo> {
    const { meta, streams } = this.live();
    const info = this.resolve(name, config);
    await this.forgetIfGone(name);
    if (this.open.has(name) || (await meta.getTopic(name)) !== undefined) throw topicExists(name);
    const existing = await streams.existing(name);
    const held = existing.flatMap((si) => (si !== undefined && si.state.messages > 0 ? [{ name: si.config.name, messages: si.state.messages }] : []));
    if (held.length > 0) throw topicUnrecorded(name, held);
    // Empty streams past the new count would make a later recoverTopic count them.
    await streams.deleteNamed(existing.slice(info.partitions).flatMap((si) => (si === undefined ? [] : [si.config.name])));
    await meta.createTopic(info);
    const created: string[] = [];
    try {
      await streams.ensure(info, { created });
    } catch (err) {
      await streams.deleteNamed(created);
      await meta.deleteTopic(name).catch(() => {});
      throw this.streamsFailed(`creating the streams of topic '${name}'`, info, err);
    }
    if (info.durability === "fsync" && info.replicas === 1) {
      this.logger.warn("durability fsync is not honoured by a single NATS copy on nats-server 2.9; use replicas: 3", { topic: name });
    }
    this.adopt(info);
    this.logger.info("topic created", { ...info });
    return { ...info };
  }

  /** Creates the topic unless it exists; an existing one keeps its settings unless they grow. */
  async ensure(name: string, config: TopicConfig = {}): Promise<TopicInfo> {
    await this.forgetIfGone(name);
    const t = await this.find(name);
    if (t === undefined) {
      try {
        return await this.create(name, config);
      } catch (err) {
        // Another instance created it in between: take theirs, as below.
        if (!(err instanceof RiffError && err.code === "RIFF_TOPIC_EXISTS")) throw err;
        return this.ensure(name, config);
      }
    }
    this.resolve(name, config);
    if (config.partitions !== undefined && config.partitions > t.info.partitions) {
      await this.setPartitions(name, config.partitions);
    }
    const { retentionMs, retentionBytes, replicas } = t.info;
    const grown = {
      retentionMs: Math.max(retentionMs, config.retentionMs ?? 0),
      retentionBytes: Math.max(retentionBytes, config.retentionBytes ?? 0),
      replicas: Math.max(replicas, config.replicas ?? 0),
    };
    if (grown.retentionMs !== retentionMs || grown.retentionBytes !== retentionBytes || grown.replicas !== replicas) {
      return this.configure(name, grown);
    }
    return { ...t.info };
  }

  /** Deletes the topic's streams and records; also the streams of an unrecorded topic. */
  async delete(name: string): Promise<void> {
    const { meta, streams } = this.live();
    const t = await this.find(name);
    if (t === undefined && !(isValidName(name) && (await streams.existing(name)).some((si) => si !== undefined))) {
      throw topicNotFound(name);
    }
    this.open.delete(name);
    t?.close();
    await streams.delete(name, t?.info.partitions ?? 0);
    await meta.deleteTopic(name);
    await this.session.offsets.deleteTopic(name);
    this.logger.info("topic deleted", { topic: name, recorded: t !== undefined });
    if (!this.session.conn.nc.isClosed()) this.session.conn.nc.publish(this.ctx.names.topicsDeletedSubject, name);
  }

  /**
   * Closes and forgets the open topic `name` if it was deleted elsewhere: its record is gone and
   * so are its streams (a record lost with its streams kept is the KV bucket's loss, not a
   * delete: the topic stays open, see recover), or its record has fewer partitions than this
   * instance knows (deleted and made again). A record with more partitions raises this
   * instance's count (the sweep takes such a raise within its period). True if it was
   * forgotten. Never throws: a look that fails (NATS away) leaves the topic as it was.
   */
  async forgetIfGone(name: string): Promise<boolean> {
    const t = this.open.get(name);
    if (t === undefined || this.closed) return false;
    try {
      const { meta, streams } = this.session;
      const info = await meta.getTopic(name);
      // A count another instance raised is taken on the way.
      if (info !== undefined && info.partitions > t.info.partitions) t.setPartitions(info);
      if (info !== undefined ? info.partitions >= t.info.partitions : (await streams.existing(name)).some((si) => si !== undefined)) return false;
    } catch (err) {
      this.logger.debug("looking whether a topic was deleted elsewhere failed", { topic: name, err: String(err) });
      return false;
    }
    if (this.open.get(name) !== t) return false;
    this.open.delete(name);
    t.close();
    this.logger.info("topic deleted by another instance; forgotten here", { topic: name });
    return true;
  }

  async setPartitions(name: string, partitions: number): Promise<TopicInfo> {
    const { meta, streams } = this.live();
    const t = await this.topic(name);
    checkPartitions(name, partitions);
    const current = t.info.partitions;
    if (partitions < current) throw partitionsDecrease(name, current, partitions);
    if (partitions > current) {
      const info = { ...t.info, partitions };
      await streams.ensure(info, { from: current });
      await meta.putTopic(info);
      t.setPartitions(info);
      this.logger.info("partitions raised", { topic: name, from: current, to: partitions });
    }
    return { ...t.info };
  }

  /** Sets retention, durability and replicas; the streams are updated in place. */
  async configure(name: string, config: Omit<TopicConfig, "partitions">): Promise<TopicInfo> {
    const { meta, streams } = this.live();
    const t = await this.topic(name);
    const { partitions, retentionMs, retentionBytes, durability, replicas } = t.info;
    // Only the fields named here: a stray `partitions` in `config` must not change the count.
    const info = this.resolve(name, {
      partitions,
      retentionMs: config.retentionMs ?? retentionMs,
      retentionBytes: config.retentionBytes ?? retentionBytes,
      durability: config.durability ?? durability,
      replicas: config.replicas ?? replicas,
    });
    await streams.update(info).catch((err: unknown) => {
      throw this.streamsFailed(`changing the streams of topic '${name}'`, info, err);
    });
    await meta.putTopic(info);
    t.info = info;
    return { ...info };
  }

  /**
   * Records a topic again from its streams, keeping every message: partitions from the streams
   * that exist, retention and replicas from their config, durability from their description.
   * A topic with a record is returned as it is; RIFF_TOPIC_NOT_FOUND when no stream exists.
   */
  async recover(name: string): Promise<TopicInfo> {
    const { meta, streams } = this.live();
    assertValidName(name, "topic");
    const recorded = await this.find(name);
    if (recorded !== undefined) return { ...recorded.info };
    const found = await streams.existing(name);
    if (!found.some((si) => si !== undefined)) throw topicNotFound(name);
    const info = infoFromStreams(name, found);
    await streams.ensure(info, { adopt: true }).catch((err: unknown) => {
      throw this.streamsFailed(`taking over the streams of topic '${name}'`, info, err);
    });
    await meta.createTopic(info);
    this.adopt(info);
    const messages = found.reduce((sum, si) => sum + (si?.state.messages ?? 0), 0);
    this.logger.info("topic recovered from its streams", { ...info, messages });
    return { ...info };
  }

  /**
   * The topics whose streams hold messages while riff has no record of them (the KV bucket was
   * lost): each would be refused with RIFF_TOPIC_UNRECORDED until recovered or deleted.
   */
  async unrecorded(): Promise<UnrecordedTopic[]> {
    const { meta, streams } = this.live();
    const [held, recorded] = await Promise.all([streams.heldByTopic(), meta.listTopics()]);
    for (const info of recorded) held.delete(info.name);
    return [...held].map(([name, list]) => ({ name, streams: list, messages: list.reduce((sum, s) => sum + s.messages, 0) })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The topic, from this instance's cache or else the KV bucket (another instance made it). */
  async find(name: string): Promise<NatsTopic | undefined> {
    const { meta } = this.live();
    const cached = this.open.get(name);
    if (cached !== undefined) return cached;
    const info = await meta.getTopic(name).catch((err: unknown) => {
      throw natsFailed(`looking up topic '${name}'`, err);
    });
    // A lookup that ends after stop() must not open a topic nobody will close.
    if (info === undefined || this.closed) return undefined;
    return this.open.get(name) ?? this.adopt(info);
  }

  /** The topic; RIFF_TOPIC_UNRECORDED if only its streams are left, else RIFF_TOPIC_NOT_FOUND. */
  async topic(name: string): Promise<NatsTopic> {
    const t = await this.find(name);
    if (t !== undefined) return t;
    if (isValidName(name)) {
      const held = await this.live().streams.held(name);
      if (held.length > 0) throw topicUnrecorded(name, held);
    }
    throw topicNotFound(name);
  }

  /** Opens `info` in this instance, following other instances' publishes if it has listeners. */
  adopt(info: TopicInfo): NatsTopic {
    const t = new NatsTopic(info, this.ctx);
    this.open.set(info.name, t);
    t.listenersChanged();
    return t;
  }

  /** Closes every open topic: ends their members' iterations and stops their feeds. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    this.deletions.unsubscribe();
    for (const t of this.open.values()) t.close();
    this.open.clear();
  }

  private live(): Session {
    this.check();
    return this.session;
  }

  /** Applies the defaults (this cluster's replicas) and checks the count against the cluster. */
  private resolve(name: string, config: TopicConfig | undefined): TopicInfo {
    const { defaultReplicas, capacity, cluster } = this.session;
    const most = capacity();
    const asked = config?.replicas;
    if (asked !== undefined && !REPLICA_COUNTS.includes(asked)) {
      throw invalidArgument(
        `topic '${name}': replicas must be 1 or 3, got ${String(asked)}; ${describeCluster(cluster())}`,
        `set replicas: ${most} (the most this cluster keeps), or leave it out for the default (${defaultReplicas})`,
      );
    }
    const info = resolveTopicConfig(name, config, defaultReplicas);
    if (info.replicas > most) throw replicasUnavailable(name, info.replicas, most, describeCluster(cluster()));
    return info;
  }

  /**
   * A failed stream create/update. Too few servers for the replicas is the user's to fix when
   * the cluster never had that many; when it keeps that many (its KV bucket's copies, the
   * servers it was started with), servers are down: an outage, said so.
   */
  private streamsFailed(what: string, info: TopicInfo, err: unknown): RiffError {
    if (apiErrorCode(err) !== JsErrorCodes.noSuitablePeers) return natsFailed(what, err);
    const cluster = describeCluster(this.session.cluster());
    if (info.replicas <= this.session.capacity()) return replicasUnplaceable(info.name, info.replicas, cluster);
    return replicasUnavailable(info.name, info.replicas, 1, cluster);
  }
}
