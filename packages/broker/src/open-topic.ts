import type { Logger, RiffError } from "@riff/core";
import type { ConsumeOptions, GroupLag, Position, SeekTarget } from "./broker.js";
import { invalidArgument } from "./broker-errors.js";
import { ConsumerGroup, groupLag } from "./consumer-group.js";
import { GroupMemberConsumer, type WaiterSet, wake } from "./group-consumer.js";
import { resolveConsumeOptions, seekOffsets } from "./topic-config.js";
import type { SqliteTopicLog } from "./topic-log.js";
import { type WriteObserver, WriteQueue } from "./write-queue.js";

/** Who hears about appends to a topic. */
export type AppendListener = (positions: Position[]) => void;

/**
 * A topic while the broker has it open: its log, its write queue, its consumer groups and their
 * members, and the waiters to wake when something changes.
 */
export class OpenTopic {
  readonly queue: WriteQueue;
  readonly groups = new Map<string, ConsumerGroup>();
  private readonly consumers = new Set<GroupMemberConsumer>();
  private readonly waiters: WaiterSet = new Set();
  private next = 0;
  /** The partition counter for messages with neither key nor partition. */
  readonly roundRobin = (): number => this.next++;

  constructor(
    readonly log: SqliteTopicLog,
    private readonly logger: Logger,
    private readonly listeners: () => Iterable<AppendListener> | undefined,
    writeObserver: () => WriteObserver | undefined = () => undefined,
  ) {
    this.queue = new WriteQueue(log, logger, (_stored, positions) => this.appended(positions), writeObserver);
    for (const [group, committed] of log.storedGroups) this.addGroup(group, committed);
  }

  get name(): string {
    return this.log.info.name;
  }

  /** Joins `group`, creating it at `startAt` if it has never committed. */
  consume(group: string, options: ConsumeOptions): GroupMemberConsumer {
    const { maxBatch, startAt, weight } = resolveConsumeOptions(this.name, group, options);
    let g = this.groups.get(group);
    if (g === undefined) {
      const committed = startAt === "latest" ? [...this.log.end] : [...this.log.start];
      g = this.addGroup(group, committed);
      // Record where the group starts, so a restart does not move a 'latest' group forward.
      for (const write of g.seek(committed)) {
        write.catch((err: unknown) =>
          this.logger.warn("could not record a new group", {
            topic: this.name,
            group,
            error: String(err),
          }),
        );
      }
    }
    const consumer = new GroupMemberConsumer(
      this.name,
      group,
      g,
      this.waiters,
      maxBatch,
      options.signal,
      (c) => this.consumers.delete(c),
      weight,
    );
    if (!consumer.isClosed()) this.consumers.add(consumer);
    return consumer;
  }

  /** Moves `group` (created if new) to `target`; resolves once durable. */
  async seek(group: string, target: SeekTarget): Promise<void> {
    const { start, end } = this.log;
    let offsets = seekOffsets(target, start.map((s, p) => ({ start: s, end: end[p] ?? s })));
    if (offsets !== undefined) {
      // Named outright (`earliest`, `latest`, offsets).
    } else if (typeof target === "object" && "timestamp" in target && Number.isFinite(target.timestamp)) {
      offsets = start.map((_, p) => this.log.offsetForTimestamp(p, target.timestamp));
    } else {
      throw invalidArgument(
        `seek target must be 'earliest', 'latest', { timestamp } or { offsets }, got ${JSON.stringify(target)}`,
      );
    }
    const g = this.groups.get(group) ?? this.addGroup(group, [...offsets]);
    await Promise.all(g.seek(offsets));
  }

  /** The lag of `group`; a group never seen would start at the earliest offsets. */
  lag(group: string): GroupLag {
    const g = this.groups.get(group);
    if (g !== undefined) return groupLag(g);
    const partitions = this.log
      .offsets()
      .map(({ partition, start, end }) => ({ partition, committed: start, end, lag: end - start }));
    return { group, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Forgets `group`; see {@link Broker.deleteGroup}. */
  deleteGroup(group: string): void {
    const g = this.groups.get(group);
    if (g?.isActive() === true) {
      throw invalidArgument(`group '${group}' of topic '${this.name}' still has members; close its consumers first`);
    }
    // Queued commits of the group are written first, so none brings it back after the delete.
    this.queue.flush();
    this.log.deleteGroup(group);
    this.groups.delete(group);
  }

  /** Raises the partition count and lets every group adopt the new partitions. */
  setPartitions(partitions: number): void {
    this.log.setPartitions(partitions);
    for (const g of this.groups.values()) g.partitionsChanged();
  }

  /** Settles the queue (written, or failed with `failQueue`), ends consumers, closes the file. */
  close(failQueue: RiffError | undefined): void {
    if (failQueue === undefined) this.queue.flush();
    else this.queue.fail(failQueue);
    for (const c of [...this.consumers]) void c.close();
    wake(this.waiters);
    try {
      this.log.close();
    } catch (err) {
      this.logger.error("closing topic file failed", { topic: this.name, error: String(err) });
    }
  }

  private addGroup(name: string, committed: number[]): ConsumerGroup {
    const g = new ConsumerGroup(name, this.log, committed, {
      persist: (group, partition, offset) => this.queue.commit(group, partition, offset),
      wake: () => wake(this.waiters),
      logger: this.logger,
    });
    this.groups.set(name, g);
    return g;
  }

  private appended(positions: Position[]): void {
    wake(this.waiters);
    for (const listener of this.listeners() ?? []) {
      try {
        listener(positions);
      } catch (err) {
        this.logger.error("onAppend listener threw", { topic: this.name, error: String(err) });
      }
    }
  }
}
