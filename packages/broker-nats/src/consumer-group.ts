import type { Logger } from "@riff/core";
import type { GroupLag, PartitionOffsets, StoredMessage } from "@riff/broker";
import type { GroupMember } from "@riff/broker/kit";
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
 * Who holds which partition of one consumer group in this riff instance, and how far each
 * partition was delivered and committed. The rules are the SQLite broker's ConsumerGroup's:
 * partitions are dealt round-robin over the members in join order; a partition whose owner
 * should change stays with the old owner, which gets nothing new from it ("revoking"), until it
 * has committed all it was given or has left; after a seek, an owner keeps a partition until it
 * commits what it held. Messages come from one {@link PartitionFeed} per owned partition.
 *
 * The committed offsets are loaded from the KV bucket once (`ready`); until then nothing is
 * delivered, but joining and assignment work at once, as the Broker interface requires.
 */
export class NatsConsumerGroup {
  private readonly members: GroupMember[] = [];
  private readonly owner: (GroupMember | undefined)[] = [];
  private readonly revoking: boolean[] = [];
  private readonly delivered: number[] = [];
  private readonly held: number[] = [];
  private readonly committed: number[] = [];
  private readonly durable: number[] = [];
  private readonly writing: (Promise<void> | undefined)[] = [];
  private readonly feeds: (PartitionFeed | undefined)[] = [];
  private loaded = false;
  /** Resolves once the committed offsets are known; rejects if they could not be read. */
  readonly ready: Promise<void>;

  /**
   * `stored`: the committed offsets from the KV bucket (NaN or missing where none); partitions
   * without one start at `startAt`, and that start is recorded.
   */
  constructor(
    readonly name: string,
    private readonly topic: GroupTopic,
    stored: Promise<number[] | undefined>,
    startAt: "earliest" | "latest",
  ) {
    this.partitionsChanged();
    this.ready = this.load(stored, startAt);
    this.ready.catch(() => {});
  }

  isActive(): boolean {
    return this.members.length > 0;
  }

  join(member: GroupMember): void {
    this.members.push(member);
    this.rebalance();
  }

  leave(member: GroupMember): void {
    const i = this.members.indexOf(member);
    if (i < 0) return;
    this.members.splice(i, 1);
    for (let p = 0; p < this.owner.length; p++) {
      if (this.owner[p] !== member) continue;
      this.owner[p] = undefined;
      this.revoking[p] = false;
      this.held[p] = 0;
      this.closeFeed(p);
    }
    this.rebalance();
  }

  assignment(member: GroupMember): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.owner.length; p++) if (this.owner[p] === member) out.push(p);
    return out;
  }

  /** Hands `member` up to `max` buffered messages from its partitions, and marks them delivered. */
  take(member: GroupMember, max: number): StoredMessage[] {
    if (!this.loaded) return [];
    const n = this.owner.length;
    let batch: StoredMessage[] | undefined;
    for (let k = 0; k < n; k++) {
      const p = (member.cursor + k) % n;
      if (this.owner[p] !== member || this.revoking[p]) continue;
      let feed = this.feeds[p];
      if (feed === undefined) {
        this.feeds[p] = feed = this.topic.openFeed(p, this.delivered[p] as number);
        continue;
      }
      if (feed.failure !== undefined) throw natsFailed(`reading partition ${p} of topic '${this.topic.name}'`, feed.failure);
      const messages = feed.take(batch === undefined ? max : max - batch.length);
      const last = messages[messages.length - 1];
      if (last === undefined) continue;
      this.delivered[p] = last.offset + 1;
      this.topic.observe(p, last.offset + 1);
      if (batch === undefined) batch = messages;
      else for (const m of messages) batch.push(m);
      if (batch.length >= max) {
        member.cursor = (p + 1) % n;
        break;
      }
    }
    return batch ?? [];
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
    const next = offset + 1;
    if (this.owner[partition] !== member) return Promise.resolve();
    const held = this.held[partition] as number;
    if (held > 0) {
      if (next >= held) {
        this.held[partition] = 0;
        if (this.revoking[partition]) this.rebalance();
      }
      // Inside what was held: maybe a copy from before the seek, so the offset stays (the copy
      // from after is committed again: at-least-once).
      if (next <= held) return this.writing[partition] ?? Promise.resolve();
    }
    // Stale (a seek since the delivery): committing past what was given would skip messages.
    if (next > (this.delivered[partition] as number)) return Promise.resolve();
    if (next <= (this.committed[partition] as number)) return this.writing[partition] ?? Promise.resolve();
    this.committed[partition] = next;
    const durable = this.persist(partition, next);
    if (this.revoking[partition] && next >= (this.delivered[partition] as number)) this.rebalance();
    return durable;
  }

  /** Moves the committed offsets and restarts delivery there; see the class comment. */
  async seek(offsets: number[]): Promise<void> {
    await this.ready;
    const writes: Promise<void>[] = [];
    for (let p = 0; p < offsets.length; p++) {
      const to = offsets[p] as number;
      const given = this.delivered[p] as number;
      if (this.owner[p] !== undefined && (this.committed[p] as number) < given) {
        this.held[p] = Math.max(this.held[p] as number, given);
      }
      this.committed[p] = to;
      this.delivered[p] = to;
      this.closeFeed(p);
      writes.push(this.persist(p, to));
    }
    this.rebalance();
    await Promise.all(writes);
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
    for (let p = this.owner.length; p < this.topic.partitions(); p++) {
      this.committed[p] ??= 0;
      this.durable[p] ??= this.committed[p] as number;
      this.delivered.push(this.committed[p] as number);
      this.owner.push(undefined);
      this.revoking.push(false);
      this.held.push(0);
      this.feeds.push(undefined);
    }
    this.rebalance();
  }

  /** Stops every feed; the members are closed by the topic. */
  close(): void {
    for (let p = 0; p < this.feeds.length; p++) this.closeFeed(p);
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

  /** Writes a committed offset; on failure the offset in memory goes back to the durable one. */
  private persist(partition: number, committed: number): Promise<void> {
    const write: Promise<void> = this.topic.persist(this.name, partition, committed).then(
      () => {
        this.durable[partition] = committed;
        if (this.writing[partition] === write) this.writing[partition] = undefined;
      },
      (err: unknown) => {
        if (this.writing[partition] === write) {
          this.writing[partition] = undefined;
          this.committed[partition] = this.durable[partition] as number;
        }
        throw natsFailed(`committing offset ${committed} of group '${this.name}'`, err);
      },
    );
    this.writing[partition] = write;
    return write;
  }

  private closeFeed(p: number): void {
    this.feeds[p]?.close();
    this.feeds[p] = undefined;
  }

  /** Moves every partition toward its round-robin owner, as far as the rules allow now. */
  private rebalance(): void {
    const count = this.members.length;
    for (let p = 0; p < this.owner.length; p++) {
      const want = count === 0 ? undefined : this.members[p % count];
      const have = this.owner[p];
      if (have === want) {
        this.revoking[p] = false;
        continue;
      }
      const holding = (this.committed[p] as number) < (this.delivered[p] as number) || (this.held[p] as number) > 0;
      if (have !== undefined && holding) {
        this.revoking[p] = true;
        continue;
      }
      this.owner[p] = want;
      this.revoking[p] = false;
      this.delivered[p] = this.committed[p] as number;
      this.closeFeed(p);
    }
    this.topic.wake();
  }
}

function noSuchMessage(topic: string, partition: number, offset: number): Error {
  return invalidArgument(
    `cannot commit offset ${String(offset)} of partition ${partition} of topic '${topic}': no such message`,
  );
}
