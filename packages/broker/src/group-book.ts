import type { StoredMessage } from "./broker.js";
import type { GroupMember, MemberGroup } from "./group-consumer.js";

/**
 * The rules of one consumer group, whatever the broker: who holds which partition, and how far
 * each was delivered and committed. Partitions are dealt round-robin over the members in join
 * order, a member of weight w counting w times. A partition whose owner should change stays with the old owner, which gets nothing
 * new from it ("revoking"), until the old owner has committed all it was given or has left; so
 * no message is ever held by two members. After a seek, an owner that holds messages from
 * before it keeps the partition until it commits them. When an owner leaves, delivery restarts
 * from the committed offset: at-least-once.
 *
 * A broker supplies where messages come from (`read`), how an offset is stored (`store`) and
 * how waiting members are woken (`wake`); the SQLite and NATS brokers both build on this. A
 * broker whose groups span processes (NATS) also says which partitions this process may deal
 * now (`shared`), and takes a partition back at once when its claim on it is lost.
 */
export abstract class GroupBook implements MemberGroup {
  protected readonly members: GroupMember[] = [];
  protected readonly owner: (GroupMember | undefined)[] = [];
  protected readonly revoking: boolean[] = [];
  /** Next offset to hand to the current owner. */
  protected readonly delivered: number[] = [];
  /**
   * After a seek: the end of what the owner was given before it and has not committed (0: none).
   * The partition stays with that owner until it commits that far or leaves.
   */
  protected readonly held: number[] = [];
  /** The committed offset last made durable, per partition. */
  protected readonly durable: number[] = [];
  /** The newest write of a committed offset still in flight, per partition. */
  private readonly writing: (Promise<void> | undefined)[] = [];

  /** `committed`: next offset to read per partition (ahead of the durable copy by at most one write). */
  constructor(
    readonly name: string,
    protected readonly committed: number[],
  ) {
    for (let p = 0; p < committed.length; p++) this.durable[p] = committed[p] as number;
  }

  /** Checks `partition` and `offset`, then {@link commitChecked}. */
  abstract commit(member: GroupMember, partition: number, offset: number): Promise<void>;
  /** Writes a group's committed offset durably. */
  protected abstract store(partition: number, committed: number): Promise<void>;
  /** Up to `max` messages of `partition` from `from`; none when none are there yet. */
  protected abstract read(partition: number, from: number, max: number): StoredMessage[];
  /** Something changed that may let a waiting member take messages. */
  protected abstract wake(): void;
  /** `partition` changed hands or position: what was read ahead for it is stale. */
  protected released(_partition: number): void {}
  /**
   * Whether this process may deal `partition` to its members: in a group spread over several
   * processes, each deals only its share. Default: every partition.
   */
  protected shared(_partition: number): boolean {
    return true;
  }
  /** The error a failed `store` is reported with. */
  protected storeFailed(err: unknown, _committed: number): unknown {
    return err;
  }

  /** Whether the group has members. */
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
      this.released(p);
    }
    this.rebalance();
  }

  /** The partitions `member` holds, including ones it is handing over. */
  assignment(member: GroupMember): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.owner.length; p++) if (this.owner[p] === member) out.push(p);
    return out;
  }

  /** What `member` reads now: its whole assignment, in one process; see `GroupConsumer.reading`. */
  reading(member: GroupMember): number[] {
    return this.assignment(member);
  }

  /** Hands `member` up to `max` messages from its partitions, and marks them delivered. */
  take(member: GroupMember, max: number): StoredMessage[] {
    const n = this.owner.length;
    let batch: StoredMessage[] | undefined;
    for (let k = 0; k < n; k++) {
      const p = (member.cursor + k) % n;
      if (this.owner[p] !== member || this.revoking[p]) continue;
      const messages = this.read(p, this.delivered[p] as number, batch === undefined ? max : max - batch.length);
      const last = messages[messages.length - 1];
      if (last === undefined) continue;
      this.delivered[p] = last.offset + 1;
      if (batch === undefined) batch = messages;
      else for (const m of messages) batch.push(m);
      if (batch.length >= max) {
        member.cursor = (p + 1) % n;
        break;
      }
    }
    return batch ?? [];
  }

  /** A member's weight changed: the partitions are dealt again. */
  weightChanged(_member: GroupMember): void {
    this.rebalance();
  }

  /**
   * `partition` is this process's again (a claim on it was just made): delivery restarts at
   * `committed`, whatever was delivered or held before, since another process may have moved it.
   */
  protected restartAt(partition: number, committed: number): void {
    this.committed[partition] = this.durable[partition] = this.delivered[partition] = committed;
    this.held[partition] = 0;
    this.writing[partition] = undefined;
    this.released(partition);
    this.rebalance();
  }

  /**
   * This process lost its claim on `partition`: its owner here loses it at once, whatever it
   * holds (its commits will be refused), and nothing more is delivered from it.
   */
  protected revokeNow(partition: number): void {
    this.owner[partition] = undefined;
    this.revoking[partition] = false;
    this.held[partition] = 0;
    this.released(partition);
    this.rebalance();
  }

  /** Whether `partition`, out of this process's share, is no longer held by a member or being committed. */
  protected idle(partition: number): boolean {
    return !this.shared(partition) && this.owner[partition] === undefined && this.writing[partition] === undefined;
  }

  /** Records that `member` handled `partition` up to and including `offset`, both checked valid. */
  protected commitChecked(member: GroupMember, partition: number, offset: number): Promise<void> {
    const next = offset + 1;
    if (this.owner[partition] !== member) return Promise.resolve();
    const held = this.held[partition] as number;
    if (held > 0) {
      if (next >= held) {
        // The owner finished what it held from before a seek: the partition may move now.
        this.held[partition] = 0;
        if (this.revoking[partition]) this.rebalance();
      }
      // A commit inside what was held may be of a copy from before the seek, so it does not
      // move the offset (the copy from after will be committed again: at-least-once).
      if (next <= held) return this.writing[partition] ?? Promise.resolve();
    }
    // Stale commits (a seek since the delivery) are ignored: committing past what this member
    // was given would skip messages.
    if (next > (this.delivered[partition] as number)) return Promise.resolve();
    // Already committed: resolve when that is durable, not before.
    if (next <= (this.committed[partition] as number)) return this.writing[partition] ?? Promise.resolve();
    this.committed[partition] = next;
    const durable = this.persist(partition, next);
    if (this.revoking[partition] && next >= (this.delivered[partition] as number)) this.rebalance();
    return durable;
  }

  /** Moves the committed offsets and restarts delivery there; one write per partition. */
  protected moveTo(offsets: number[]): Promise<void>[] {
    const writes: Promise<void>[] = [];
    for (let p = 0; p < offsets.length; p++) {
      const to = offsets[p] as number;
      const given = this.delivered[p] as number;
      if (this.owner[p] !== undefined && (this.committed[p] as number) < given) {
        this.held[p] = Math.max(this.held[p] as number, given);
      }
      this.committed[p] = to;
      this.delivered[p] = to;
      this.released(p);
      writes.push(this.persist(p, to));
    }
    this.rebalance();
    return writes;
  }

  /** Adopts partitions up to `count`; a new one without a committed offset starts at `start(p)`. */
  protected adopt(count: number, start: (partition: number) => number): void {
    for (let p = this.owner.length; p < count; p++) {
      if (this.committed[p] === undefined) this.committed[p] = start(p);
      this.owner.push(undefined);
      this.revoking.push(false);
      this.held.push(0);
      this.durable[p] ??= this.committed[p] as number;
      this.delivered.push(this.committed[p] as number);
    }
    this.rebalance();
  }

  /**
   * Writes a committed offset. If the write fails, the offset in memory goes back to the last
   * durable one, so that a retried commit writes again instead of resolving at once.
   */
  protected persist(partition: number, committed: number): Promise<void> {
    const write: Promise<void> = this.store(partition, committed).then(
      () => {
        this.durable[partition] = committed;
        if (this.writing[partition] === write) this.writing[partition] = undefined;
      },
      (err: unknown) => {
        if (this.writing[partition] === write) {
          this.writing[partition] = undefined;
          this.committed[partition] = this.durable[partition] as number;
        }
        throw this.storeFailed(err, committed);
      },
    );
    this.writing[partition] = write;
    return write;
  }

  /** Moves every partition toward its round-robin owner, as far as the rules allow now. */
  protected rebalance(): void {
    const slots = dealingOrder(this.members);
    let rank = 0;
    for (let p = 0; p < this.owner.length; p++) {
      const want = slots.length === 0 || !this.shared(p) ? undefined : slots[rank++ % slots.length];
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
      this.released(p);
    }
    this.wake();
  }
}

/**
 * The members in join order, each as many times as its weight (at least once), interleaved
 * (weights 2 and 1 give a b a), so that partitions dealt round-robin over the list go out in
 * proportion to the weights.
 */
export function dealingOrder<T extends { weight?: number }>(members: readonly T[]): T[] {
  const left = members.map((m) => Math.max(1, Math.floor(m.weight ?? 1)));
  const out: T[] = [];
  for (let round = 0; out.length < left.reduce((a, b) => a + b, 0); round++) {
    members.forEach((m, i) => {
      if ((left[i] as number) > round) out.push(m);
    });
  }
  return out;
}
