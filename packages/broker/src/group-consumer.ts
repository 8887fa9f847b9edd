import type { GroupConsumer, StoredMessage } from "./broker.js";

/** A member as its group sees it; the identity is what matters. */
export interface GroupMember {
  /** Index of the partition to look at first, so busy partitions do not starve the others. */
  cursor: number;
  /** Partitions are dealt in proportion to it. @default 1 */
  weight?: number;
}

/**
 * What a member needs from its group, in any broker: who holds what, and the batches. `take`
 * is synchronous (from memory or a local file); `ready`, when there is one, is awaited first
 * (a remote broker loading the group's offsets).
 */
export interface MemberGroup {
  readonly ready?: Promise<void>;
  join(member: GroupMember): void;
  leave(member: GroupMember): void;
  take(member: GroupMember, max: number): StoredMessage[];
  commit(member: GroupMember, partition: number, offset: number): Promise<void>;
  assignment(member: GroupMember): number[];
  /** What `member` reads of its assignment now; see {@link GroupConsumer.reading}. */
  reading(member: GroupMember): number[];
  /** `member`'s weight changed. */
  weightChanged(member: GroupMember): void;
}

/** Where members park while there is nothing for them; the topic wakes them all on any change. */
export type WaiterSet = Set<() => void>;

/** Wakes every consumer parked on a topic; each re-checks what it may take. */
export function wake(waiters: WaiterSet): void {
  if (waiters.size === 0) return;
  for (const resolve of waiters) resolve();
  waiters.clear();
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One member of a group, in the broker's process. Batches come from the group (for SQLite, its
 * log: memory for recent messages, the file otherwise); with nothing to deliver, the iterator
 * waits for the topic to signal an append or a rebalance, without timers.
 */
export class GroupMemberConsumer implements GroupConsumer, GroupMember {
  cursor = 0;
  weight = 1;
  private closed = false;
  private readonly iterator: AsyncIterator<StoredMessage[]> = {
    next: () => this.next(),
    // `break` out of `for await` leaves the group, so the partitions go to the other members.
    return: async () => {
      await this.close();
      return DONE;
    },
  };
  private readonly onAbort = (): void => void this.close();

  constructor(
    readonly topic: string,
    readonly group: string,
    private readonly state: MemberGroup,
    private readonly waiters: WaiterSet,
    private readonly maxBatch: number,
    private readonly signal: AbortSignal | undefined,
    private readonly onClose: (consumer: GroupMemberConsumer) => void,
    weight = 1,
  ) {
    this.weight = weight;
    if (signal?.aborted) {
      this.closed = true;
      return;
    }
    signal?.addEventListener("abort", this.onAbort, { once: true });
    state.join(this);
  }

  /** Every call returns the same iterator: a member is one stream, however often it is iterated. */
  [Symbol.asyncIterator](): AsyncIterator<StoredMessage[]> {
    return this.iterator;
  }

  commit(partition: number, offset: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.state.commit(this, partition, offset);
  }

  assignment(): number[] {
    return this.closed ? [] : this.state.assignment(this);
  }

  reading(): number[] {
    return this.closed ? [] : this.state.reading(this);
  }

  /** Changes this member's share of the partitions. */
  setWeight(weight: number): void {
    if (this.closed || weight === this.weight) return;
    this.weight = weight;
    this.state.weightChanged(this);
  }

  /** Leaves the group; a pending `next()` resolves as done. Idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.signal?.removeEventListener("abort", this.onAbort);
    this.state.leave(this);
    this.onClose(this);
    // The leave woke every waiter of the topic, including this one's pending next().
    return Promise.resolve();
  }

  /** Whether close() ran (or the signal fired). */
  isClosed(): boolean {
    return this.closed;
  }

  private async next(): Promise<IteratorResult<StoredMessage[]>> {
    for (;;) {
      if (this.closed) return DONE;
      let batch: StoredMessage[];
      try {
        if (this.state.ready !== undefined) await this.state.ready;
        if (this.closed) return DONE;
        batch = this.state.take(this, this.maxBatch);
      } catch (err) {
        // Closed meanwhile (the broker stopped): the failure is the stop's, not this member's.
        if (this.closed) return DONE;
        // `for await` does not call return() when next() throws: leave here, or this member
        // would keep its partitions from the others for good.
        await this.close();
        throw err;
      }
      if (batch.length > 0) return { done: false, value: batch };
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}
