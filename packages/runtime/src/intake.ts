import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@riff/core";

/** Wait before a failed read of an input joins its group again. */
const REJOIN_MS = 1000;
import type { Broker, GroupConsumer, StoredMessage } from "@riff/broker";

/** What an {@link Intake} needs from its runner. */
export interface IntakeOptions {
  broker: Broker;
  /** The function: its name is the group's. */
  name: string;
  inputs: string[];
  /** Aborts when the function stops: the groups are left and the reading ends. */
  signal: AbortSignal;
  /** A batch arrived. */
  received(batch: StoredMessage[]): void;
  /** Whether enough waits for replicas that reading should pause. */
  full(): boolean;
  logger: Logger;
}

/** One membership: the consumers of the input topics' groups and their read loops. */
interface Membership {
  consumers: Map<string, GroupConsumer>;
  loops: Promise<void>[];
  /** Set by leave(): batches that still come are not taken. */
  draining: boolean;
}

/**
 * How a runner reads its inputs: a member of each input topic's group `<function>`, with a
 * weight, pausing while enough waits for replicas. A runner that does not read (in a cluster,
 * on a node the function is not placed on) has no membership and still runs replicas.
 */
export class Intake {
  private membership: Membership | undefined;
  private roomWaiter: (() => void) | undefined;

  constructor(private readonly o: IntakeOptions) {}

  /** Whether it reads now. */
  get joined(): boolean {
    return this.membership !== undefined;
  }

  /** Joins the groups with `weight`, or changes the weight when joined; returns whether it joined now. */
  join(weight: number): boolean {
    if (this.o.signal.aborted) return false;
    if (this.membership !== undefined) {
      for (const c of this.membership.consumers.values()) c.setWeight(weight);
      return false;
    }
    const m: Membership = { consumers: new Map(), loops: [], draining: false };
    for (const input of this.o.inputs) this.consume(input, m, weight);
    this.membership = m;
    return true;
  }

  /**
   * Joins `input`'s group and reads it. A read that fails (the broker gave up on it) leaves the
   * group; it is joined again after a wait, for as long as this membership lasts.
   */
  private consume(input: string, m: Membership, weight: number): void {
    const consumer = this.o.broker.consume(input, this.o.name, { signal: this.o.signal, weight });
    m.consumers.set(input, consumer);
    m.loops.push(
      this.read(consumer, m).catch(async (err: unknown) => {
        if (this.o.signal.aborted || m.draining) return;
        this.o.logger.error("reading an input failed; joining its group again", { input, err: String(err), retryInMs: REJOIN_MS });
        await sleep(REJOIN_MS, undefined, { signal: this.o.signal }).catch(() => undefined);
        if (!this.o.signal.aborted && !m.draining && this.membership === m) this.consume(input, m, weight);
      }),
    );
  }

  /**
   * Leaves the groups: batches that still come are dropped (uncommitted, for the partitions'
   * next owner), `drain` runs (the runner lets what is in flight finish and commit), then the
   * consumers close.
   */
  async leave(drain: () => Promise<void>): Promise<void> {
    const m = this.membership;
    if (m === undefined) return;
    this.membership = undefined;
    m.draining = true;
    this.room();
    await drain();
    await Promise.all([...m.consumers.values()].map((c) => c.close()));
    // No loop is added once draining: a failed read does not join again.
    await Promise.all(m.loops);
  }

  /** The consumer a message of `topic` commits through, in the membership current now. */
  consumers(): ReadonlyMap<string, GroupConsumer> | undefined {
    return this.membership?.consumers;
  }

  /** `topic/partition` keys read now (on a cluster, claimed as well as dealt). */
  assigned(): string[] {
    return [...(this.membership?.consumers ?? [])].flatMap(([topic, c]) => c.reading().map((p) => `${topic}/${p}`));
  }

  /** There is room again (or the function is stopping): a paused read goes on. */
  room(): void {
    const wake = this.roomWaiter;
    this.roomWaiter = undefined;
    wake?.();
  }

  private async read(consumer: GroupConsumer, m: Membership): Promise<void> {
    for await (const batch of consumer) {
      // Leaving: what comes now stays uncommitted, for the partitions' next owner.
      if (m.draining) continue;
      this.o.received(batch);
      // Backpressure: stop reading while enough is waiting for replicas.
      while (this.o.full() && !this.o.signal.aborted && !m.draining) {
        await new Promise<void>((resolve) => (this.roomWaiter = resolve));
      }
    }
  }
}
