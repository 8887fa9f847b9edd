import type { Logger } from "@riff/core";
import type { GroupLag, PartitionOffsets, StoredMessage } from "@riff/broker";
import { GroupBook, type GroupMember } from "@riff/broker/kit";
import { invalidArgument, natsFailed } from "./errors.js";
import { PartitionFeed } from "./partition-feed.js";

/** What a group needs from its topic. */
export interface GroupTopic {
  readonly name: string;
  partitions(): number;
  /** The end offset of `partition` as far as this instance knows (it may lag other publishers). */
  knownEnd(partition: number): number;
  /** Notes that `partition` holds messages below `end`. */
  observe(partition: number, end: number): void;
  /** Asks the server for the partitions' offsets. */
  offsets(): Promise<PartitionOffsets[]>;
  /** Opens a feed of `partition` from `from` on, that calls `wake` when messages arrive. */
  openFeed(partition: number, from: number): PartitionFeed;
  persist(group: string, partition: number, committed: number): Promise<void>;
  wake(): void;
  logger: Logger;
}

/**
 * A consumer group in this riff instance: {@link GroupBook}'s rules (shared with the SQLite
 * broker) over one {@link PartitionFeed} per owned partition.
 *
 * The committed offsets are loaded from the KV bucket once (`ready`); until then nothing is
 * delivered, but joining and assignment work at once, as the Broker interface requires.
 */
export class NatsConsumerGroup extends GroupBook {
  private readonly feeds: (PartitionFeed | undefined)[] = [];
  private loaded = false;
  /** Resolves once the committed offsets are known; rejects if they could not be read. */
  readonly ready: Promise<void>;

  /**
   * `stored`: the committed offsets from the KV bucket (NaN or missing where none); partitions
   * without one start at `startAt`, and that start is recorded.
   */
  constructor(
    name: string,
    private readonly topic: GroupTopic,
    stored: Promise<number[] | undefined>,
    startAt: "earliest" | "latest",
  ) {
    super(name, []);
    this.partitionsChanged();
    this.ready = this.load(stored, startAt);
    this.ready.catch(() => {});
  }

  /** Hands `member` up to `max` buffered messages from its partitions, once the offsets are loaded. */
  override take(member: GroupMember, max: number): StoredMessage[] {
    return this.loaded ? super.take(member, max) : [];
  }

  /** Records that `member` handled `partition` up to and including `offset`. */
  commit(member: GroupMember, partition: number, offset: number, refreshed = false): Promise<void> {
    const count = this.owner.length;
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      return Promise.reject(
        invalidArgument(`partition ${String(partition)} does not exist in topic '${this.topic.name}' (it has ${count})`),
      );
    }
    if (!Number.isInteger(offset) || offset < 0) return Promise.reject(noSuchMessage(this.topic.name, partition, offset));
    if (offset >= this.topic.knownEnd(partition)) {
      // Another instance may have published it: ask the server once before refusing.
      if (refreshed) return Promise.reject(noSuchMessage(this.topic.name, partition, offset));
      return this.topic.offsets().then(() => this.commit(member, partition, offset, true));
    }
    return this.commitChecked(member, partition, offset);
  }

  /** Moves the committed offsets and restarts delivery there; see {@link GroupBook}. */
  async seek(offsets: number[]): Promise<void> {
    await this.ready;
    await Promise.all(this.moveTo(offsets));
  }

  /** The group's position per partition against `offsets` from the server. */
  lag(offsets: PartitionOffsets[]): GroupLag {
    const partitions = offsets.map(({ partition, start, end }) => {
      const committed = this.loaded ? (this.committed[partition] ?? start) : start;
      return { partition, committed, end, lag: Math.max(0, end - Math.max(committed, start)) };
    });
    return { group: this.name, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  /** Adopts partitions added to the topic; new ones are read from their start (0). */
  partitionsChanged(): void {
    this.adopt(this.topic.partitions(), () => 0);
  }

  /** Stops every feed; the members are closed by the topic. */
  close(): void {
    for (let p = 0; p < this.feeds.length; p++) this.released(p);
  }

  protected read(partition: number, from: number, max: number): StoredMessage[] {
    const feed = this.feeds[partition];
    if (feed === undefined) {
      // Opened on first need; it wakes the members when its first messages arrive.
      this.feeds[partition] = this.topic.openFeed(partition, from);
      return [];
    }
    if (feed.failure !== undefined) throw natsFailed(`reading partition ${partition} of topic '${this.topic.name}'`, feed.failure);
    const messages = feed.take(max);
    const last = messages[messages.length - 1];
    if (last !== undefined) this.topic.observe(partition, last.offset + 1);
    return messages;
  }

  protected store(partition: number, committed: number): Promise<void> {
    return this.topic.persist(this.name, partition, committed);
  }

  protected override storeFailed(err: unknown, committed: number): unknown {
    return natsFailed(`committing offset ${committed} of group '${this.name}'`, err);
  }

  protected wake(): void {
    this.topic.wake();
  }

  protected override released(partition: number): void {
    this.feeds[partition]?.close();
    this.feeds[partition] = undefined;
  }

  private async load(stored: Promise<number[] | undefined>, startAt: "earliest" | "latest"): Promise<void> {
    const [values, offsets] = await Promise.all([stored, this.topic.offsets()]);
    const fresh: number[] = [];
    for (const { partition: p, start, end } of offsets) {
      const value = values?.[p];
      const at = value !== undefined && Number.isFinite(value) ? value : startAt === "latest" ? end : start;
      if (value === undefined || !Number.isFinite(value)) fresh.push(p);
      this.committed[p] = this.durable[p] = this.delivered[p] = at;
    }
    this.loaded = true;
    // Record where a new group starts, so a restart does not move a 'latest' group forward.
    await Promise.all(fresh.map((p) => this.persist(p, this.committed[p] as number)));
    this.rebalance();
  }
}

function noSuchMessage(topic: string, partition: number, offset: number): Error {
  return invalidArgument(
    `cannot commit offset ${String(offset)} of partition ${partition} of topic '${topic}': no such message`,
  );
}
