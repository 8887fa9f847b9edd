import type { Logger } from "@riff/core";
import type { GroupLag, PartitionLag, StoredMessage } from "./broker.js";
import { invalidArgument } from "./broker-errors.js";
import type { GroupMember } from "./group-consumer.js";
import type { SqliteTopicLog } from "./topic-log.js";

/** What a group needs from its topic: durable commits and a way to wake waiting members. */
export interface GroupHooks {
  persist(group: string, partition: number, committed: number): Promise<void>;
  wake(): void;
  logger: Logger;
}

/**
 * Who holds which partition of one consumer group, and how far each partition was delivered and
 * committed. Partitions are dealt round-robin over the members in join order. A partition whose
 * owner should change stays with the old owner, which gets nothing new from it ("revoking"),
 * until the old owner has committed all it was given or has left; so no message is ever held by
 * two members. When an owner leaves, delivery restarts from the committed offset: at-least-once.
 */
export class ConsumerGroup {
  private readonly members: GroupMember[] = [];
  private readonly owner: (GroupMember | undefined)[] = [];
  private readonly revoking: boolean[] = [];
  /** Next offset to hand to the current owner. */
  private readonly delivered: number[] = [];
  /**
   * After a seek: the end of what the owner was given before it and has not committed (0: none).
   * The partition stays with that owner until it commits that far or leaves.
   */
  private readonly held: number[] = [];
  /** The committed offset last made durable, per partition. */
  private readonly durable: number[];
  /** The newest write of a committed offset still in flight, per partition. */
  private readonly writing: (Promise<void> | undefined)[] = [];

  /** `committed`: next offset to read per partition (ahead of the durable copy by at most one flush). */
  constructor(
    readonly name: string,
    private readonly log: SqliteTopicLog,
    private readonly committed: number[],
    private readonly hooks: GroupHooks,
  ) {
    this.durable = [...committed];
    this.partitionsChanged();
  }

  /** The group's committed offsets, per partition. */
  committedOffsets(): readonly number[] {
    return this.committed;
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
    }
    this.rebalance();
  }

  /** The partitions `member` holds, including ones it is handing over. */
  assignment(member: GroupMember): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.owner.length; p++) if (this.owner[p] === member) out.push(p);
    return out;
  }

  /** Hands `member` up to `max` messages from its partitions, and marks them delivered. */
  take(member: GroupMember, max: number): StoredMessage[] {
    const n = this.owner.length;
    let batch: StoredMessage[] | undefined;
    for (let k = 0; k < n; k++) {
      const p = (member.cursor + k) % n;
      if (this.owner[p] !== member || this.revoking[p]) continue;
      const from = this.delivered[p] as number;
      if (from >= (this.log.end[p] as number)) continue;
      const room = batch === undefined ? max : max - batch.length;
      const messages = this.log.read(p, from, room);
      const last = messages[messages.length - 1];
      if (last === undefined) continue;
      if (messages[0] !== undefined && messages[0].offset > from) {
        this.hooks.logger.warn("retention deleted messages the group had not read", {
          group: this.name,
          partition: p,
          from,
          resumedAt: messages[0].offset,
        });
      }
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

  /** Records that `member` handled `partition` up to and including `offset`. */
  commit(member: GroupMember, partition: number, offset: number): Promise<void> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.owner.length) {
      return Promise.reject(
        invalidArgument(
          `partition ${String(partition)} does not exist in topic '${this.log.info.name}' (it has ${this.owner.length})`,
        ),
      );
    }
    if (!Number.isInteger(offset) || offset < 0 || offset >= (this.log.end[partition] as number)) {
      return Promise.reject(
        invalidArgument(
          `cannot commit offset ${String(offset)} of partition ${partition} of topic '${this.log.info.name}': no such message`,
        ),
      );
    }
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

  /**
   * Moves the committed offsets, and restarts delivery from there. A member keeps a partition
   * it holds uncommitted messages of until it commits them or leaves, so no message is with
   * two members at once; its commits of them no longer move the offset.
   */
  seek(offsets: number[]): Promise<void>[] {
    const writes: Promise<void>[] = [];
    for (let p = 0; p < offsets.length; p++) {
      const to = offsets[p] as number;
      const given = this.delivered[p] as number;
      if (this.owner[p] !== undefined && (this.committed[p] as number) < given) {
        this.held[p] = Math.max(this.held[p] as number, given);
      }
      this.committed[p] = to;
      this.delivered[p] = to;
      writes.push(this.persist(p, to));
    }
    this.rebalance();
    return writes;
  }

  /**
   * Writes a committed offset. If the write fails, the offset in memory goes back to the last
   * durable one, so that a retried commit writes again instead of resolving at once.
   */
  private persist(partition: number, committed: number): Promise<void> {
    const write: Promise<void> = this.hooks.persist(this.name, partition, committed).then(
      () => {
        this.durable[partition] = committed;
        if (this.writing[partition] === write) this.writing[partition] = undefined;
      },
      (err: unknown) => {
        if (this.writing[partition] === write) {
          this.writing[partition] = undefined;
          this.committed[partition] = this.durable[partition] as number;
        }
        throw err;
      },
    );
    this.writing[partition] = write;
    return write;
  }

  /** Adopts partitions added to the topic; new ones are read from their start. */
  partitionsChanged(): void {
    for (let p = this.owner.length; p < this.log.info.partitions; p++) {
      if (this.committed[p] === undefined) this.committed[p] = this.log.start[p] as number;
      this.owner.push(undefined);
      this.revoking.push(false);
      this.held.push(0);
      this.durable[p] ??= this.committed[p] as number;
      this.delivered.push(this.committed[p] as number);
    }
    this.rebalance();
  }

  lag(): PartitionLag[] {
    return this.committed.map((committed, partition) => {
      const end = this.log.end[partition] as number;
      const from = Math.max(committed, this.log.start[partition] as number);
      return { partition, committed, end, lag: Math.max(0, end - from) };
    });
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
    }
    this.hooks.wake();
  }
}

/** A group's lag in the shape of the Broker API. */
export function groupLag(g: ConsumerGroup): GroupLag {
  const partitions = g.lag();
  return { group: g.name, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
}
