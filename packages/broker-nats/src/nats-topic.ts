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
import type { RiffError } from "@riff/core";
import type { JetStreamClient, JetStreamManager } from "nats";
import { type EncodedMessage, encodeMessage } from "./codec.js";
import { type GroupTopic, NatsConsumerGroup } from "./consumer-group.js";
import type { GroupCoordinator } from "./group-coordinator.js";
import type { Lease } from "./lease.js";
import type { OffsetStore } from "./offset-store.js";
import { invalidArgument, natsFailed, publishFailed } from "./errors.js";
import { GroupMemberConsumer, type WaiterSet, wake } from "@riff/broker/kit";
import type { MetaStore } from "./meta-store.js";
import type { NatsNames } from "./names.js";
import { PartitionFeed } from "./partition-feed.js";
import type { PartitionStreams } from "./partition-streams.js";
import { PublishError, type StreamPublisher } from "./publisher.js";
import { RemoteAppends } from "./remote-appends.js";
import { resolveConsumeOptions, seekOffsets } from "@riff/broker/kit";

/** Who hears about appends to a topic. */
export type AppendListener = (positions: Position[]) => void;

/** What every open topic of one broker shares. */
export interface TopicContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  publisher: StreamPublisher;
  /** The publisher's message-id prefix, which tells this instance's messages from others'. */
  idPrefix: string;
  /** RIFF_BROKER_UNAVAILABLE as of now (for a publish that failed on a lost connection). */
  unavailable(): RiffError;
  streams: PartitionStreams;
  meta: MetaStore;
  offsets: OffsetStore;
  coordinator: GroupCoordinator;
  names: NatsNames;
  readAhead: number;
  logger: Logger;
  /** Lets the broker's stop() wait for `work` before it closes the connection. */
  track<T>(work: Promise<T>): Promise<T>;
  listeners(topic: string): Iterable<AppendListener> | undefined;
  /** Calls `fn` each time the connection to NATS comes back; returns the unsubscribe function. */
  onReconnect(fn: () => void): () => void;
}

/**
 * A topic as this broker instance knows it: its settings, the end offsets it has seen, its
 * consumer groups and their members, and the waiters to wake when something changes.
 */
export class NatsTopic implements GroupTopic {
  readonly groups = new Map<string, NatsConsumerGroup>();
  private readonly consumers = new Set<GroupMemberConsumer>();
  private readonly waiters: WaiterSet = new Set();
  /** A wake for arrivals is due at the next turn of the event loop: see {@link arrived}. */
  private wakeDue = false;
  private readonly ends: number[] = [];
  private next = 0;
  /** Other instances' publishes, followed while this topic has onAppend listeners. */
  private remote: RemoteAppends | undefined;
  /** Callers' message ids published here lately (bounded), which the remote feed must not tell again. */
  private readonly ownIds = new Set<string>();
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

  offsetsSince(timestamp: number): Promise<number[]> {
    const partitions = Array.from({ length: this.info.partitions }, (_, p) => p);
    return Promise.all(partitions.map((p) => this.ctx.streams.offsetForTimestamp(this.name, p, timestamp)));
  }

  openFeed(partition: number, from: number, lease: Lease): PartitionFeed {
    return new PartitionFeed(
      {
        js: this.ctx.js,
        jsm: this.ctx.jsm,
        stream: this.ctx.names.stream(this.name, partition),
        topic: this.name,
        partition,
        readAhead: this.ctx.readAhead,
        onData: () => this.arrived(),
        knownEnd: () => this.knownEnd(partition),
        observe: (end) => this.observe(partition, end),
        onReconnect: (fn) => this.ctx.onReconnect(fn),
        logger: this.logger,
      },
      from,
      lease,
    );
  }

  wake(): void {
    wake(this.waiters);
  }

  /**
   * Messages came into a feed: the members are woken once, at the next turn of the event loop,
   * not per message. nats.js hands over everything one socket read brought in microtasks, one
   * message each; a member woken at the first would take batches of one (at a backlog, 200,000
   * batches for 200,000 messages), paying a batch's costs per message.
   */
  private arrived(): void {
    if (this.wakeDue) return;
    this.wakeDue = true;
    setImmediate(() => {
      this.wakeDue = false;
      wake(this.waiters);
    });
  }

  /**
   * Checks every message first, so that a bad one writes nothing, then hands them all to the
   * publisher at once: they go out on one connection in call order, so the server keeps their
   * order per partition, and the acks come back pipelined (see {@link StreamPublisher} for
   * retries). No atomicity: a failure part way may leave the first messages written.
   */
  async publish(messages: PublishMessage[], maxBytes: number, maxPayload: number): Promise<Position[]> {
    if (!Array.isArray(messages)) throw invalidArgument(`publishBatch to topic '${this.name}' needs an array of messages`);
    const encoded = messages.map((m) => encodeMessage(this.info, m, this.roundRobin, maxBytes, maxPayload));
    if (encoded.length === 0) return [];
    for (const m of messages) {
      if (m.id === undefined) continue;
      this.ownIds.add(m.id);
      if (this.ownIds.size > 10_000) this.ownIds.delete(this.ownIds.values().next().value as string);
    }
    const { publisher, names } = this.ctx;
    const acks = await Promise.all(
      encoded.map((m, i) => publisher.publish(names.subject(this.name, m.partition), m.payload, m.headers, messages[i]?.id)),
    ).catch((err: unknown) => {
      if (!(err instanceof PublishError)) throw natsFailed(`publishing to topic '${this.name}'`, err);
      throw err.reason === "disconnected" ? this.ctx.unavailable() : publishFailed(this.name, err);
    });
    const positions = acks.map((ack, i) => ({
      topic: this.name,
      partition: (encoded[i] as EncodedMessage).partition,
      offset: ack.seq - 1,
    }));
    this.appended(positions);
    return positions;
  }

  /**
   * Follows other instances' publishes while the topic has onAppend listeners, and stops when
   * the last one goes; the broker calls it whenever listeners come or go.
   */
  listenersChanged(): void {
    const listening = [...(this.ctx.listeners(this.name) ?? [])].length > 0;
    if (listening && this.remote === undefined) {
      const { js, jsm, names, idPrefix, logger } = this.ctx;
      this.remote = new RemoteAppends({ js, jsm, names, idPrefix, logger, topic: this.name, isOwn: (id) => this.ownIds.has(id), heard: (p) => this.appended(p) });
      this.remote.watch(this.info.partitions);
    } else if (!listening && this.remote !== undefined) {
      this.remote.stop();
      this.remote = undefined;
    }
  }

  /** After publishes, this instance's or (while listened to) others': tells the listeners. */
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

  /**
   * Joins `group`. Partitions are dealt to the group's members here at once, but each delivers
   * only once this instance claims it (a lease), from the offset committed under the claim.
   */
  consume(group: string, options: ConsumeOptions): GroupMemberConsumer {
    const { maxBatch, startAt, weight } = resolveConsumeOptions(this.name, group, options);
    let g = this.groups.get(group);
    if (g === undefined) {
      g = new NatsConsumerGroup(group, this, startAt, (changed) => this.ctx.coordinator.changed(changed));
      this.groups.set(group, g);
    }
    const consumer = new GroupMemberConsumer(this.name, group, g, this.waiters, maxBatch, options.signal, (c) => this.consumers.delete(c), weight);
    if (!consumer.isClosed()) this.consumers.add(consumer);
    return consumer;
  }

  /**
   * Moves `group` to `target`; resolves once durable. Members here restart from there (what
   * they hold is kept until committed, see GroupBook); members on other instances refuse it.
   */
  async seek(group: string, target: SeekTarget): Promise<void> {
    const offsets = await this.offsets();
    let to = seekOffsets(target, offsets);
    if (to !== undefined) {
      // Named outright (`earliest`, `latest`, offsets).
    } else if (typeof target === "object" && "timestamp" in target && Number.isFinite(target.timestamp)) {
      to = await this.offsetsSince(target.timestamp);
    } else {
      throw invalidArgument(`seek target must be 'earliest', 'latest', { timestamp } or { offsets }, got ${JSON.stringify(target)}`);
    }
    const g = this.groups.get(group);
    if (g?.isActive() === true) {
      await g.seek(to);
      return;
    }
    if (this.ctx.coordinator.hasMembers(this.name, group)) {
      throw invalidArgument(`group '${group}' of topic '${this.name}' has members on other nodes; seek it while it runs nowhere (scaled to zero), or from a node where it runs`);
    }
    await Promise.all(to.map(async (offset, p) => {
      for (;;) {
        const record = await this.ctx.offsets.get(this.name, group, p);
        if ((await this.ctx.offsets.write(this.name, group, p, offset, 0, record?.revision ?? 0)) !== undefined) return;
      }
    }));
  }

  /** The lag of `group`; a group never seen would start at the earliest offsets. */
  async lag(group: string, offsets?: PartitionOffsets[]): Promise<GroupLag> {
    const now = offsets ?? (await this.offsets());
    const stored = (await this.ctx.offsets.all(this.name, group, now.length)).map((r) => r?.offset);
    const g = this.groups.get(group);
    if (g !== undefined) return g.lagWith(now, stored);
    const partitions = now.map(({ partition, start, end }) => {
      const at = stored[partition] ?? start;
      return { partition, committed: at, end, lag: Math.max(0, end - Math.max(at, start)) };
    });
    return { group, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Every group stored or active here, with its lag, by name. */
  async groupLags(offsets: PartitionOffsets[]): Promise<GroupLag[]> {
    const stored = await this.ctx.offsets.groups(this.name);
    const active = [...this.groups.values()].filter((g) => g.isActive()).map((g) => g.name);
    const names = [...new Set([...stored, ...active])].sort();
    return Promise.all(names.map((g) => this.lag(g, offsets)));
  }

  /** Forgets `group`; refused while it has members on any instance. */
  async deleteGroup(group: string): Promise<void> {
    const g = this.groups.get(group);
    if (g?.isActive() === true || this.ctx.coordinator.hasMembers(this.name, group)) {
      throw invalidArgument(`group '${group}' of topic '${this.name}' still has members; close its consumers first`);
    }
    g?.close();
    this.groups.delete(group);
    await this.ctx.offsets.deleteGroup(this.name, group);
  }

  /** Takes a partition count raised by another instance, from the topic's record. */
  async refresh(): Promise<void> {
    const info = await this.ctx.meta.getTopic(this.name);
    if (info !== undefined && info.partitions > this.info.partitions) this.setPartitions(info);
  }

  /** Takes the raised partition count and lets every group adopt the new partitions. */
  setPartitions(info: TopicInfo): void {
    this.info = info;
    this.remote?.watch(info.partitions);
    for (const g of this.groups.values()) g.partitionsChanged();
  }

  /** Ends every member's iteration and stops the feeds. */
  close(): void {
    this.remote?.stop();
    this.remote = undefined;
    for (const c of [...this.consumers]) void c.close();
    for (const g of this.groups.values()) g.close();
    wake(this.waiters);
  }
}
