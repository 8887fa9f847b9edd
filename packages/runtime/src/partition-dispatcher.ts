import type { StoredMessage } from "@riff/broker";
import type { Replica } from "./replica.js";

/** What the dispatcher needs from the runner. */
export interface PartitionDispatcherOptions {
  /**
   * `true` (the default for functions): each partition is handled in offset order. All of a
   * partition's messages in flight go to one replica, tagged so that the replica runs them one
   * after another; a partition moves to another replica only when nothing of it is in flight.
   * `false` (`ordering: none`): any message goes to the least busy replica.
   */
  ordered: boolean;
  /** Messages one replica may hold at once. */
  concurrency(): number;
  /** Hands one message to a replica; the runner calls {@link PartitionDispatcher.finished} later. */
  send(replica: Replica, message: StoredMessage): void;
}

/**
 * Holds received messages per partition and hands them to ready replicas as they have room,
 * keeping each partition's order and never letting two replicas hold the same partition.
 */
export class PartitionDispatcher {
  /** Keyed by `topic/partition`: a function may read several topics. */
  private readonly queues = new Map<string, StoredMessage[]>();
  private readonly owners = new Map<string, Replica>();
  private readonly inFlightByPartition = new Map<string, number>();
  /** A stable number per partition key, to spread partitions evenly over replicas. */
  private readonly ordinals = new Map<string, number>();
  /** Per `topic/partition` and message key, the offset of a message of that key waiting to run again. */
  private readonly parked = new Map<string, number>();
  private waiting = 0;

  constructor(private readonly o: PartitionDispatcherOptions) {}

  /** Messages received and not yet handed to a replica. */
  get queued(): number {
    return this.waiting;
  }

  enqueue(messages: StoredMessage[]): void {
    for (const m of messages) {
      const key = partitionKey(m);
      let q = this.queues.get(key);
      if (q === undefined) {
        this.queues.set(key, (q = []));
        this.ordinal(key);
      }
      q.push(m);
    }
    this.waiting += messages.length;
  }

  /** Dispatches what the ready replicas have room for. */
  pump(ready: Replica[]): void {
    if (ready.length === 0 || this.waiting === 0) return;
    const limit = this.o.concurrency();
    for (const [partition, queue] of this.queues) {
      while (queue.length > 0) {
        const next = this.parked.size === 0 ? 0 : queue.findIndex((m) => !this.held(m));
        if (next < 0) break;
        const replica = this.o.ordered ? this.ownerOf(partition, ready) : leastBusy(ready);
        if (replica === undefined || replica.inFlight >= limit) break;
        const message = queue.splice(next, 1)[0] as StoredMessage;
        this.waiting--;
        this.inFlightByPartition.set(partition, (this.inFlightByPartition.get(partition) ?? 0) + 1);
        this.o.send(replica, message);
      }
    }
  }

  /** Puts a message back in its partition's queue, in offset order, to be dispatched again. */
  requeue(message: StoredMessage): void {
    const key = partitionKey(message);
    let q = this.queues.get(key);
    if (q === undefined) this.queues.set(key, (q = []));
    let i = 0;
    while (i < q.length && (q[i] as StoredMessage).offset < message.offset) i++;
    q.splice(i, 0, message);
    this.waiting++;
  }

  /**
   * A message that failed waits out a backoff before it runs again: until it is settled
   * ({@link unpark}), later messages of its key wait too, so a key's order holds, while
   * messages of other keys (and without a key) go on. Those handed to a replica before it
   * failed were on their way already and run. With `ordering: none` nothing waits.
   */
  park(message: StoredMessage): void {
    if (this.o.ordered && message.key !== undefined) this.parked.set(keyOf(message), message.offset);
  }

  /** The message parked with {@link park} is settled: its key's later messages may run. */
  unpark(message: StoredMessage): void {
    if (message.key !== undefined && this.parked.get(keyOf(message)) === message.offset) this.parked.delete(keyOf(message));
  }

  /** Whether `m` waits behind an earlier message of its key that is to run again. */
  private held(m: StoredMessage): boolean {
    if (m.key === undefined) return false;
    const offset = this.parked.get(keyOf(m));
    return offset !== undefined && offset < m.offset;
  }

  /** Drops every message waiting for a replica (they stay uncommitted). */
  clear(): void {
    this.parked.clear();
    this.queues.clear();
    this.waiting = 0;
  }

  /** Calls `fn` for every message waiting for a replica. */
  forEachQueued(fn: (message: StoredMessage) => void): void {
    for (const q of this.queues.values()) q.forEach(fn);
  }

  /** Records that a message of `partition` is done (replied, failed, or its replica died). */
  finished(partition: string): void {
    const n = (this.inFlightByPartition.get(partition) ?? 1) - 1;
    this.inFlightByPartition.set(partition, n);
    if (n === 0) this.owners.delete(partition);
  }

  /**
   * Partitions each replica holds, for `riff describe`: its own while it has messages of them
   * in flight, and each other partition of `held` (what this runner reads) on the replica the
   * spread gives its next message to, so that an idle replica shows its partitions too.
   */
  assignments(ready: Replica[], held: Iterable<string>): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const add = (p: string, r: Replica | undefined) => {
      if (r !== undefined) out.set(r.id, [...(out.get(r.id) ?? []), p]);
    };
    for (const [p, r] of this.owners) add(p, r);
    if (this.o.ordered && ready.length > 0) for (const p of held) if (!this.owners.has(p)) add(p, ready[this.ordinal(p) % ready.length]);
    for (const list of out.values()) list.sort();
    return out;
  }

  /** The partition's stable number for the spread, given the first time it is seen. */
  private ordinal(partition: string): number {
    let n = this.ordinals.get(partition);
    if (n === undefined) this.ordinals.set(partition, (n = this.ordinals.size));
    return n;
  }

  /**
   * The replica that handles `partition`. Partitions are spread by number over the ready
   * replicas. When that spread names another replica than the current owner (replicas came or
   * went), the partition waits until nothing of it is in flight on the old owner, then moves:
   * never two replicas on one partition, and order kept across the move.
   */
  private ownerOf(partition: string, ready: Replica[]): Replica | undefined {
    const wanted = ready[this.ordinal(partition) % ready.length];
    const owner = this.owners.get(partition);
    if (owner === wanted) return owner;
    if (owner !== undefined && (this.inFlightByPartition.get(partition) ?? 0) > 0) return undefined;
    if (wanted !== undefined) this.owners.set(partition, wanted);
    return wanted;
  }
}

/** `topic/partition`: the unit of order and of assignment. */
export function partitionKey(m: { topic: string; partition: number }): string {
  return `${m.topic}/${m.partition}`;
}

/** A message key within its partition: `topic/partition` + the key. */
function keyOf(m: StoredMessage): string {
  return `${partitionKey(m)}\u0000${m.key ?? ""}`;
}

function leastBusy(ready: Replica[]): Replica | undefined {
  let best: Replica | undefined;
  for (const r of ready) if (best === undefined || r.inFlight < best.inFlight) best = r;
  return best;
}
