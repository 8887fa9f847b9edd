import type { Logger } from "@riff/core";
import type { GroupLag, PartitionOffsets, StoredMessage } from "@riff/broker";
import { GroupBook, type GroupMember } from "@riff/broker/kit";
import { invalidArgument } from "./errors.js";
import type { Lease } from "./lease.js";
import type { OffsetCommits } from "./offset-commits.js";
import type { PartitionFeed } from "./partition-feed.js";

/** What a group needs from its topic. */
export interface GroupTopic {
  readonly name: string;
  partitions(): number;
  /** The end offset of `partition` as far as this instance knows (it may lag other publishers). */
  knownEnd(partition: number): number;
  /** Asks the server for the partitions' offsets. */
  offsets(): Promise<PartitionOffsets[]>;
  /** Asks the server for each partition's first offset stored at or after `timestamp` (its end if none). */
  offsetsSince(timestamp: number): Promise<number[]>;
  /** Opens a feed of `partition` from `from` on; its messages carry the lease's generation and fence. */
  openFeed(partition: number, from: number, lease: Lease): PartitionFeed;
  wake(): void;
  /** Reads the topic's record again: a partition count raised by another instance is taken. */
  refresh(): Promise<void>;
  logger: Logger;
}

/** This instance's claim on one partition: its lease, its commits, and the feed while a member reads it. */
export interface Claim {
  lease: Lease;
  commits: OffsetCommits;
  feed: PartitionFeed | undefined;
}

/**
 * A consumer group as one riff instance sees it, in a group spread over instances (riff nodes):
 * {@link GroupBook}'s rules among this instance's members (shared with the SQLite broker), over
 * the partitions this instance holds. Which partitions it should hold (its share) and the
 * leases that make it their only holder are the {@link GroupCoordinator}'s; a partition is
 * dealt to members as soon as it is in the share, but delivers only once it is claimed, from
 * the committed offset read under the claim.
 */
export class NatsConsumerGroup extends GroupBook {
  private share = new Set<number>();
  private readonly claims: (Claim | undefined)[] = [];
  /**
   * For a group that starts at the latest offsets: the ends when it was made, used where no
   * offset was committed yet. See {@link latestEnds}.
   */
  private readonly startingEnds: Promise<number[]> | undefined;

  constructor(
    name: string,
    private readonly topic: GroupTopic,
    readonly startAt: "earliest" | "latest",
    /** Members joined, left or changed weight here: the coordinator tells the other instances. */
    private readonly membershipChanged: (group: NatsConsumerGroup) => void,
  ) {
    super(name, []);
    this.partitionsChanged();
    if (startAt === "latest") {
      this.startingEnds = latestEnds(topic, Date.now());
      this.startingEnds.catch(() => undefined);
    }
  }

  /** Where partition `p` starts when the group has committed nothing on it. */
  async startOffset(partition: number): Promise<number> {
    if (this.startingEnds !== undefined) return (await this.startingEnds)[partition] ?? 0;
    return (await this.topic.offsets())[partition]?.start ?? 0;
  }

  override join(member: GroupMember): void {
    super.join(member);
    this.membershipChanged(this);
  }

  override leave(member: GroupMember): void {
    super.leave(member);
    this.membershipChanged(this);
  }

  override weightChanged(member: GroupMember): void {
    super.weightChanged(member);
    this.membershipChanged(this);
  }

  /** The topic's partition count, as this instance knows it. */
  partitions(): number {
    return this.owner.length;
  }

  /** Looks at the topic's record again (its partitions may have been raised elsewhere). */
  refreshTopic(): Promise<void> {
    return this.topic.refresh();
  }

  get topicName(): string {
    return this.topic.name;
  }

  /** The sum of the members' weights: this instance's weight in the group; undefined without members. */
  weight(): number | undefined {
    if (this.members.length === 0) return undefined;
    return this.members.reduce((sum, m) => sum + (m.weight ?? 1), 0);
  }

  /** The partitions this instance should hold now (the coordinator's deal). */
  setShare(partitions: number[]): void {
    const next = new Set(partitions);
    if (next.size === this.share.size && partitions.every((p) => this.share.has(p))) return;
    this.share = next;
    this.rebalance();
  }

  /** Whether this instance should take `partition` (it is in the share and has members to read it). */
  wants(partition: number): boolean {
    return this.members.length > 0 && this.share.has(partition);
  }

  claim(partition: number): Claim | undefined {
    return this.claims[partition];
  }

  /** A claim was made on `partition`: delivery restarts at `committed`. */
  gain(partition: number, claim: Claim, committed: number): void {
    this.claims[partition] = claim;
    this.restartAt(partition, committed);
  }

  /** The claim on `partition` is gone (lost or released): its member loses it at once. */
  drop(partition: number, why: string): void {
    const claim = this.claims[partition];
    if (claim === undefined) return;
    this.claims[partition] = undefined;
    claim.lease.lose(why);
    claim.feed?.close();
    this.revokeNow(partition);
  }

  /** Whether a claim on `partition` may be given up now: out of the share, and nothing held or being committed. */
  releasable(partition: number): boolean {
    return this.claims[partition] !== undefined && this.idle(partition);
  }

  /** What `member` reads: its dealt partitions that this instance has claimed (a move may still be under way). */
  override reading(member: GroupMember): number[] {
    return this.assignment(member).filter((p) => this.claims[p] !== undefined);
  }

  /** Every claim (for renewals and the stop). */
  claimed(): [number, Claim][] {
    return this.claims.flatMap((c, p) => (c === undefined ? [] : [[p, c] as [number, Claim]]));
  }

  /** Records that `member` handled `partition` up to and including `offset`. */
  commit(member: GroupMember, partition: number, offset: number, refreshed = false): Promise<void> {
    const count = this.owner.length;
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      return Promise.reject(invalidArgument(`partition ${String(partition)} does not exist in topic '${this.topic.name}' (it has ${count})`));
    }
    if (!Number.isInteger(offset) || offset < 0) return Promise.reject(noSuchMessage(this.topic.name, partition, offset));
    if (offset >= this.topic.knownEnd(partition)) {
      // Another instance may have published it: ask the server once before refusing.
      if (refreshed) return Promise.reject(noSuchMessage(this.topic.name, partition, offset));
      return this.topic.offsets().then(() => this.commit(member, partition, offset, true));
    }
    return this.commitChecked(member, partition, offset);
  }

  /** Moves the committed offsets of the partitions claimed here; see {@link GroupBook}. */
  async seek(offsets: number[]): Promise<void> {
    await Promise.all(this.moveTo(offsets));
  }

  /** The position of a partition claimed here by a member: fresher than the offset store. */
  committedHere(partition: number): number | undefined {
    return this.claims[partition] === undefined || !this.isActive() ? undefined : this.committed[partition];
  }

  /** Adopts partitions added to the topic; they are dealt again over the instances. */
  partitionsChanged(): void {
    this.adopt(this.topic.partitions(), () => 0);
    if (this.members.length > 0) this.membershipChanged(this);
  }

  /** Stops every feed; claims are the coordinator's to release. */
  close(): void {
    for (const c of this.claims) c?.feed?.close();
  }

  /** The lag of the group against `offsets`, with `stored` offsets where no claim is held here. */
  lagWith(offsets: PartitionOffsets[], stored: (number | undefined)[]): GroupLag {
    const partitions = offsets.map(({ partition, start, end }) => {
      const committed = this.committedHere(partition) ?? stored[partition] ?? start;
      return { partition, committed, end, lag: Math.max(0, end - Math.max(committed, start)) };
    });
    return { group: this.name, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
  }

  protected override shared(partition: number): boolean {
    return this.share.has(partition);
  }

  protected read(partition: number, from: number, max: number): StoredMessage[] {
    const claim = this.claims[partition];
    if (claim === undefined) return [];
    // Fenced on this instance's own clock: a paused or cut-off holder delivers nothing more.
    if (!claim.lease.valid()) {
      this.drop(partition, "its lease expired before it was renewed");
      return [];
    }
    claim.feed ??= this.topic.openFeed(partition, from, claim.lease);
    return claim.feed.take(max);
  }

  protected store(partition: number, committed: number): Promise<void> {
    const claim = this.claims[partition];
    if (claim === undefined) return Promise.reject(invalidArgument(`partition ${partition} of topic '${this.topic.name}' is not held here any more`));
    return claim.commits.write(committed);
  }

  protected wake(): void {
    this.topic.wake();
  }

  protected override released(partition: number): void {
    const claim = this.claims[partition];
    if (claim === undefined) return;
    claim.feed?.close();
    claim.feed = undefined;
  }
}

function noSuchMessage(topic: string, partition: number, offset: number): Error {
  return invalidArgument(`cannot commit offset ${String(offset)} of partition ${partition} of topic '${topic}': no such message`);
}

/**
 * The ends of `topic`'s partitions at `joined`, the time a group that starts at `latest` was
 * made. The server's answer comes later than that: its ends would skip what was published in
 * between (a message published right after `consume()` returned, on a 3-server cluster). So each
 * partition starts at its first message the server stored at or after `joined`, and never below
 * the end this instance already knew of (its own acknowledged publishes, which the server's
 * millisecond timestamps cannot order against `joined`). Another node's publish is placed by the
 * server's clock against this node's: the error is their skew.
 */
async function latestEnds(topic: GroupTopic, joined: number): Promise<number[]> {
  const known = Array.from({ length: topic.partitions() }, (_, p) => topic.knownEnd(p));
  const since = await topic.offsetsSince(joined);
  return since.map((offset, p) => Math.max(offset, known[p] ?? 0));
}
