import type { Logger } from "@riff/core";
import type {
  ConsumeOptions,
  GroupLag,
  PartitionOffsets,
  Position,
  PublishMessage,
  SeekTarget,
  TopicInfo,
} from "@riff/broker";
import type { JetStreamClient, PubAck } from "nats";
import { type EncodedMessage, encodeMessage } from "./codec.js";
import { type GroupTopic, NatsConsumerGroup } from "./consumer-group.js";
import { invalidArgument, natsFailed } from "./errors.js";
import { GroupMemberConsumer, type WaiterSet, wake } from "@riff/broker/kit";
import type { MetaStore } from "./meta-store.js";
import type { NatsNames } from "./names.js";
import { PartitionFeed } from "./partition-feed.js";
import type { PartitionStreams } from "./partition-streams.js";
import { resolveConsumeOptions } from "@riff/broker/kit";

/** Who hears about appends to a topic. */
export type AppendListener = (positions: Position[]) => void;

/** What every open topic of one broker shares. */
export interface TopicContext {
  js: JetStreamClient;
  streams: PartitionStreams;
  meta: MetaStore;
  names: NatsNames;
  readAhead: number;
  logger: Logger;
  /** Lets the broker's stop() wait for `work` before it closes the connection. */
  track<T>(work: Promise<T>): Promise<T>;
  listeners(topic: string): Iterable<AppendListener> | undefined;
}

/**
 * A topic as this broker instance knows it: its settings, the end offsets it has seen, its
 * consumer groups and their members, and the waiters to wake when something changes.
 */
export class NatsTopic implements GroupTopic {
  readonly groups = new Map<string, NatsConsumerGroup>();
  private readonly consumers = new Set<GroupMemberConsumer>();
  private readonly waiters: WaiterSet = new Set();
  private readonly ends: number[] = [];
  private next = 0;
  /** The partition counter for messages with neither key nor partition. */
  readonly roundRobin = (): number => this.next++;
  readonly logger: Logger;

  constructor(
    public info: TopicInfo,
    private readonly ctx: TopicContext,
  ) {
    this.logger = ctx.logger.child({ topic: info.name });
  }

  get name(): string {
    return this.info.name;
  }

  partitions(): number {
    return this.info.partitions;
  }

  knownEnd(partition: number): number {
    return this.ends[partition] ?? 0;
  }

  /** Notes that `partition` holds messages below `end`. */
  observe(partition: number, end: number): void {
    if (end > (this.ends[partition] ?? 0)) this.ends[partition] = end;
  }

  async offsets(): Promise<PartitionOffsets[]> {
    const { offsets } = await this.ctx.streams.offsets(this.name, this.info.partitions);
    for (const o of offsets) this.observe(o.partition, o.end);
    return offsets;
  }

  openFeed(partition: number, from: number): PartitionFeed {
    return new PartitionFeed(
      {
        js: this.ctx.js,
        stream: this.ctx.names.stream(this.name, partition),
        topic: this.name,
        partition,
        readAhead: this.ctx.readAhead,
        onData: () => this.wake(),
        logger: this.logger,
      },
      from,
    );
  }

  persist(group: string, partition: number, committed: number): Promise<void> {
    return this.ctx.track(this.ctx.meta.commit(this.name, group, partition, committed));
  }

  wake(): void {
    wake(this.waiters);
  }

  /**
   * Checks every message first, so that a bad one writes nothing, then publishes them all at
   * once: they go out on one connection in call order, so the server keeps their order per
   * partition, and the acks come back pipelined. No atomicity: a failure part way (the server
   * lost) may leave the first messages written.
   */
  async publish(messages: PublishMessage[], maxBytes: number, maxPayload: number): Promise<Position[]> {
    if (!Array.isArray(messages)) throw invalidArgument(`publishBatch to topic '${this.name}' needs an array of messages`);
    const encoded = messages.map((m) => encodeMessage(this.info, m, this.roundRobin, maxBytes, maxPayload));
    if (encoded.length === 0) return [];
    const { js, names } = this.ctx;
    let acks: PubAck[];
    try {
      acks = await Promise.all(
        encoded.map((m) =>
          js.publish(names.subject(this.name, m.partition), m.payload, m.headers === undefined ? {} : { headers: m.headers }),
        ),
      );
    } catch (err) {
      throw natsFailed(`publishing to topic '${this.name}'`, err);
    }
    const positions = acks.map((ack, i) => ({
      topic: this.name,
      partition: (encoded[i] as EncodedMessage).partition,
      offset: ack.seq - 1,
    }));
    this.appended(positions);
    return positions;
  }

  /** After this instance's own publishes: tells the listeners (feeds hear from the server). */
  private appended(positions: Position[]): void {
    for (const p of positions) this.observe(p.partition, p.offset + 1);
    for (const listener of this.ctx.listeners(this.name) ?? []) {
      try {
        listener(positions);
      } catch (err) {
        this.logger.error("onAppend listener threw", { error: String(err) });
      }
    }
  }

  /** Joins `group`; a group new to this instance loads its offsets from the KV bucket. */
  consume(group: string, options: ConsumeOptions): GroupMemberConsumer {
    const { maxBatch, startAt } = resolveConsumeOptions(this.name, group, options);
    let g = this.groups.get(group);
    if (g === undefined) {
      const stored = this.ctx.meta.groups(this.name, group).then((m) => m.get(group));
      g = new NatsConsumerGroup(group, this, stored, startAt);
      this.ctx.track(g.ready).catch(() => {});
      this.groups.set(group, g);
    }
    const consumer = new GroupMemberConsumer(this.name, group, g, this.waiters, maxBatch, options.signal, (c) =>
      this.consumers.delete(c),
    );
    if (!consumer.isClosed()) this.consumers.add(consumer);
    return consumer;
  }

  /** Moves `group` to `target`; resolves once durable. */
  async seek(group: string, target: SeekTarget): Promise<void> {
    const offsets = await this.offsets();
    let to: number[];
    if (target === "earliest") to = offsets.map((o) => o.start);
    else if (target === "latest") to = offsets.map((o) => o.end);
    else if (typeof target === "object" && target !== null && Number.isFinite(target.timestamp)) {
      to = await Promise.all(offsets.map((o) => this.ctx.streams.offsetForTimestamp(this.name, o.partition, target.timestamp)));
    } else {
      throw invalidArgument(`seek target must be 'earliest', 'latest' or { timestamp }, got ${JSON.stringify(target)}`);
    }
    const g = this.groups.get(group);
    if (g !== undefined) await g.seek(to);
    else await Promise.all(to.map((offset, p) => this.persist(group, p, offset)));
  }

  /** The lag of `group`; a group never seen would start at the earliest offsets. */
  async lag(group: string, offsets?: PartitionOffsets[], stored?: number[]): Promise<GroupLag> {
    const now = offsets ?? (await this.offsets());
    const g = this.groups.get(group);
    if (g !== undefined) {
      await g.ready;
      return g.lag(now);
    }
    const committed = stored ?? (await this.ctx.meta.groups(this.name, group)).get(group) ?? [];
    const partitions = now.map(({ partition, start, end }) => {
      const c = committed[partition];
      const at = c !== undefined && Number.isFinite(c) ? c : start;
      return { partition, committed: at, end, lag: Math.max(0, end - Math.max(at, start)) };
    });
    return { group, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Every group stored or active, with its lag, by name. */
  async groupLags(offsets: PartitionOffsets[]): Promise<GroupLag[]> {
    const stored = await this.ctx.meta.groups(this.name);
    const names = [...new Set([...stored.keys(), ...this.groups.keys()])].sort();
    return Promise.all(names.map((g) => this.lag(g, offsets, stored.get(g))));
  }

  /** Forgets `group`; refused while it has members here. */
  async deleteGroup(group: string): Promise<void> {
    const g = this.groups.get(group);
    if (g?.isActive() === true) {
      throw invalidArgument(`group '${group}' of topic '${this.name}' still has members; close its consumers first`);
    }
    g?.close();
    this.groups.delete(group);
    await this.ctx.meta.deleteGroup(this.name, group);
  }

  /** Takes the raised partition count and lets every group adopt the new partitions. */
  setPartitions(info: TopicInfo): void {
    this.info = info;
    for (const g of this.groups.values()) g.partitionsChanged();
  }

  /** Ends every member's iteration and stops the feeds. */
  close(): void {
    for (const c of [...this.consumers]) void c.close();
    for (const g of this.groups.values()) g.close();
    wake(this.waiters);
  }
}
