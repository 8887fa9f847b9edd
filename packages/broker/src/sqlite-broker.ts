import { join } from "node:path";
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
} from "./broker.js";
import {
  invalidArgument,
  notRunning,
  partitionsDecrease,
  topicExists,
  topicNotFound,
  writeFailed,
} from "./broker-errors.js";
import { type AppendListener, OpenTopic } from "./open-topic.js";
import {
  type ResolvedSqliteBrokerOptions,
  type SqliteBrokerOptions,
  resolveSqliteBrokerOptions,
} from "./options.js";
import {
  checkPartitions,
  checkReadArgs,
  prepareMessage,
  resolveEmbeddedTopicConfig,
} from "./topic-config.js";
import { type OpenedFolder, openFolder } from "./topic-files.js";
import { SqliteTopicLog, type TopicLogOptions } from "./topic-log.js";
import { removeTopicFiles } from "./topic-schema.js";
import { Checkpointer } from "./checkpointer.js";
import type { WriteObserver } from "./write-queue.js";

/** `created` → `starting` → `running` → `stopping` → `stopped`; calls succeed only when running. */
export type SqliteBrokerState = "created" | "starting" | "running" | "stopping" | "stopped";

/**
 * The embedded broker: one SQLite file per topic under `dir`, group commit of publishes per
 * event-loop turn, and consumer groups served from memory when caught up. See docs/broker.md.
 */
export class SqliteBroker implements Broker, AsyncDisposable {
  private current: SqliteBrokerState = "created";
  private readonly options: ResolvedSqliteBrokerOptions;
  private readonly logger: Logger;
  private readonly checkpointer: Checkpointer;
  private readonly logOptions: TopicLogOptions;
  private readonly topics = new Map<string, OpenTopic>();
  /** Topic files that exist but could not be opened, with why; never overwritten. */
  private readonly unreadable = new Map<string, string>();
  private readonly listeners = new Map<string, Set<AppendListener>>();
  private writeObserver: WriteObserver | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private folderLock: OpenedFolder["lock"] | undefined;

  constructor(options: SqliteBrokerOptions) {
    this.options = resolveSqliteBrokerOptions(options);
    this.logger = this.options.logger.child({ component: "broker" });
    this.checkpointer = new Checkpointer(this.logger);
    this.logOptions = { ...this.options, checkpointer: this.checkpointer };
  }

  get state(): SqliteBrokerState {
    return this.current;
  }

  /** Opens every topic file in `dir`, checks it, applies retention, and starts the sweep timer. */
  async start(): Promise<void> {
    if (this.current !== "created")
      throw new RiffError("RIFF_INTERNAL", `cannot start a broker that is ${this.current}`);
    this.current = "starting";
    const { dir } = this.options;
    let opened: OpenedFolder;
    try {
      opened = openFolder(dir, this.logOptions);
    } catch (err) {
      this.current = "stopped";
      throw err;
    }
    this.folderLock = opened.lock;
    for (const log of opened.logs) this.register(log);
    for (const [name, reason] of opened.failures) {
      this.unreadable.set(name, reason);
      this.logger.error("cannot open topic file; the topic is unavailable", {
        topic: name,
        error: reason,
      });
    }
    this.current = "running";
    this.logger.info("broker started", { dir, topics: this.topics.size });
    await this.enforceRetention();
    const every = this.options.retentionCheckIntervalMs;
    if (every > 0) this.sweepTimer = setInterval(() => void this.enforceRetention(), every).unref();
  }

  /** Writes what is queued, ends every consumer's iteration, and closes the files. Idempotent. */
  async stop(): Promise<void> {
    if (this.current === "stopping" || this.current === "stopped") return;
    this.current = "stopping";
    clearInterval(this.sweepTimer);
    for (const t of this.topics.values()) t.close(undefined);
    this.topics.clear();
    this.folderLock?.close();
    await this.checkpointer.stop();
    this.current = "stopped";
    this.logger.info("broker stopped");
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async createTopic(name: string, config?: TopicConfig): Promise<TopicInfo> {
    this.ensureRunning();
    const info = resolveEmbeddedTopicConfig(name, config);
    if (this.topics.has(name)) throw topicExists(name);
    const broken = this.unreadable.get(name);
    if (broken !== undefined) {
      throw new RiffError(
        "RIFF_INTERNAL",
        `topic '${name}' has a file that could not be opened: ${broken}`,
        {
          hint: `move ${join(this.options.dir, `${name}.db`)} away, then create the topic again`,
        },
      );
    }
    let log: SqliteTopicLog;
    try {
      log = SqliteTopicLog.create(this.options.dir, info, this.logOptions);
    } catch (err) {
      throw writeFailed(name, err);
    }
    this.register(log);
    this.logger.info("topic created", { ...info });
    return { ...info };
  }

  async ensureTopic(name: string, config: TopicConfig = {}): Promise<TopicInfo> {
    this.ensureRunning();
    const t = this.topics.get(name);
    if (t === undefined) return this.createTopic(name, config);
    resolveEmbeddedTopicConfig(name, config);
    if (config.partitions !== undefined && config.partitions > t.log.info.partitions) {
      await this.setPartitions(name, config.partitions);
    }
    const { retentionMs, retentionBytes } = t.log.info;
    const grown = {
      ...t.log.info,
      retentionMs: Math.max(retentionMs, config.retentionMs ?? 0),
      retentionBytes: Math.max(retentionBytes, config.retentionBytes ?? 0),
    };
    if (grown.retentionMs !== retentionMs || grown.retentionBytes !== retentionBytes)
      t.log.updateConfig(grown);
    return { ...t.log.info };
  }

  async listTopics(): Promise<TopicInfo[]> {
    this.ensureRunning();
    return [...this.topics.values()]
      .map((t) => ({ ...t.log.info }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    this.ensureRunning();
    const t = this.topics.get(name);
    return t === undefined ? undefined : { ...t.log.info };
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const t = this.topic(name);
    const groups = [...t.groups.keys()].map((g) => t.lag(g));
    return { ...t.log.info, offsets: t.log.offsets(), sizeBytes: t.log.sizeBytes(), groups };
  }

  async deleteTopic(name: string): Promise<void> {
    const t = this.topic(name);
    this.topics.delete(name);
    t.close(topicNotFound(name));
    removeTopicFiles(t.log.path);
    this.logger.info("topic deleted", { topic: name });
  }

  async setPartitions(name: string, partitions: number): Promise<TopicInfo> {
    const t = this.topic(name);
    checkPartitions(name, partitions);
    const current = t.log.info.partitions;
    if (partitions < current) {
      throw partitionsDecrease(name, current, partitions);
    }
    if (partitions > current) {
      t.setPartitions(partitions);
      this.logger.info("partitions raised", { topic: name, from: current, to: partitions });
    }
    return { ...t.log.info };
  }

  async configureTopic(name: string, config: Omit<TopicConfig, "partitions">): Promise<TopicInfo> {
    const t = this.topic(name);
    const { partitions, retentionMs, retentionBytes, durability, replicas } = t.log.info;
    // Only the fields named here: a stray `partitions` in `config` must not change the count.
    const info = resolveEmbeddedTopicConfig(name, {
      partitions,
      retentionMs: config.retentionMs ?? retentionMs,
      retentionBytes: config.retentionBytes ?? retentionBytes,
      durability: config.durability ?? durability,
      replicas: config.replicas ?? replicas,
    });
    t.log.updateConfig(info);
    return { ...info };
  }

  publish(topic: string, message: PublishMessage): Promise<Position> {
    try {
      const t = this.topic(topic);
      return t.queue.publish(
        prepareMessage(t.log.info, message, t.roundRobin, this.options.maxMessageBytes),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  publishBatch(topic: string, messages: PublishMessage[]): Promise<Position[]> {
    try {
      const t = this.topic(topic);
      if (!Array.isArray(messages))
        throw invalidArgument(`publishBatch to topic '${topic}' needs an array of messages`);
      if (messages.length === 0) return Promise.resolve([]);
      const max = this.options.maxMessageBytes;
      return t.queue.publishBatch(
        messages.map((m) => prepareMessage(t.log.info, m, t.roundRobin, max)),
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  consume(topic: string, group: string, options: ConsumeOptions = {}): GroupConsumer {
    return this.topic(topic).consume(group, options);
  }

  async read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const t = this.topic(topic);
    checkReadArgs(t.log.info, partition, fromOffset, limit);
    return t.log.read(partition, fromOffset, limit);
  }

  async endOffsets(topic: string): Promise<PartitionOffsets[]> {
    return this.topic(topic).log.offsets();
  }

  async offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]> {
    const t = this.topic(topic);
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
      throw invalidArgument(`a timestamp must be a number of ms since the epoch, got ${String(timestamp)}`);
    }
    return t.log.offsets().map(({ partition }) => t.log.offsetForTimestamp(partition, timestamp));
  }

  async lag(topic: string, group: string): Promise<GroupLag> {
    return this.topic(topic).lag(group);
  }

  async seek(topic: string, group: string, target: SeekTarget): Promise<void> {
    await this.topic(topic).seek(group, target);
  }

  async deleteGroup(topic: string, group: string): Promise<void> {
    this.topic(topic).deleteGroup(group);
  }

  onAppend(topic: string, listener: AppendListener): () => void {
    const set = this.listeners.get(topic) ?? new Set<AppendListener>();
    this.listeners.set(topic, set);
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Sets the one observer of every topic's write transactions (the daemon's metrics). */
  observeWrites(observer: WriteObserver): () => void {
    this.writeObserver = observer;
    return () => {
      if (this.writeObserver === observer) this.writeObserver = undefined;
    };
  }

  /**
   * Deletes what each topic's retention no longer covers; `now` lets tests age messages without
   * waiting. Returns how many messages were deleted. The sweep timer calls it too.
   */
  async enforceRetention(now: number = Date.now()): Promise<number> {
    if (this.current !== "running") return 0;
    let deleted = 0;
    for (const t of this.topics.values()) {
      try {
        deleted += t.log.enforceRetention(now);
      } catch (err) {
        this.logger.error("retention sweep failed", { topic: t.log.info.name, error: String(err) });
      }
    }
    if (deleted > 0) this.logger.debug("retention deleted messages", { deleted });
    return deleted;
  }

  private register(log: SqliteTopicLog): void {
    this.topics.set(
      log.info.name,
      new OpenTopic(log, this.logger, () => this.listeners.get(log.info.name), () => this.writeObserver),
    );
  }

  private topic(name: string): OpenTopic {
    this.ensureRunning();
    const t = this.topics.get(name);
    if (t === undefined) throw topicNotFound(name);
    return t;
  }

  private ensureRunning(): void {
    if (this.current !== "running") throw notRunning(this.current);
  }
}

/** Creates the embedded SQLite broker; call `start()` before use. */
export function createSqliteBroker(options: SqliteBrokerOptions): SqliteBroker {
  return new SqliteBroker(options);
}
