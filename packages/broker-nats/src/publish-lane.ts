import type { MsgHdrs } from "nats";
import type { PublishAck, PublishError } from "./publish-error.js";

/** One publish, from the call until its ack or final failure. */
export interface PublishEntry {
  /** Call order; within a lane, the order the stream must store entries in. */
  readonly n: number;
  /** Its `Nats-Msg-Id`, the same on every attempt. */
  readonly id: string;
  readonly payload: Uint8Array;
  readonly headers: MsgHdrs;
  readonly lane: PublishLane;
  /** After this, a failure is final. */
  readonly deadline: number;
  attempts: number;
  sentAt: number;
  /** A retry waits until then. */
  notBefore: number;
  resolve(ack: PublishAck): void;
  reject(err: PublishError): void;
}

/**
 * The publishes to one subject, i.e. one partition's stream: its order. Unsent entries leave
 * in call order, pipelined. When an entry fails and waits to be retried, the lane turns
 * `serial`: nothing more is sent until every entry sent before has its answer; then the
 * retries go first, one at a time, and pipelining resumes once nothing earlier is unresolved.
 * So a message k+1 that was not yet sent when k failed is never stored before k. One that was
 * already in flight may be (JetStream cannot take a message back); {@link stored} notices it.
 */
export class PublishLane {
  /** Never sent, in call order; `head` is the next. */
  private fresh: PublishEntry[] = [];
  private head = 0;
  /** Sent, failed, waiting to go again: ordered by `n`, all before any fresh entry. */
  private readonly retries: PublishEntry[] = [];
  private serial = false;
  /** The latest-called entry stored so far, with its sequence. */
  private latest: { n: number; seq: number } | undefined;
  /** Entries sent and not yet answered. */
  inFlight = 0;

  constructor(readonly subject: string) {}

  push(e: PublishEntry): void {
    this.fresh.push(e);
  }

  /** The entry that may be sent now, taken off the queue; undefined when none may. */
  take(now: number): PublishEntry | undefined {
    const retry = this.retries[0];
    const next = retry ?? this.fresh[this.head];
    if (next === undefined) return undefined;
    if (this.serial && (this.inFlight > 0 || next.notBefore > now)) return undefined;
    if (retry !== undefined) this.retries.shift();
    else if (++this.head > 1024 && this.head * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.head);
      this.head = 0;
    }
    return next;
  }

  /** Queues `e` to go again after `notBefore`, ahead of everything unsent, and stops pipelining. */
  requeue(e: PublishEntry, notBefore: number): void {
    e.notBefore = notBefore;
    const at = this.retries.findIndex((r) => r.n > e.n);
    this.retries.splice(at === -1 ? this.retries.length : at, 0, e);
    this.serial = true;
  }

  /**
   * Notes that `e` was stored at `seq`. Returns the sequence of a later-called entry stored
   * before it, if there is one: the order of the two is lost.
   */
  stored(e: PublishEntry, seq: number): number | undefined {
    const latest = this.latest;
    if (latest === undefined || e.n > latest.n) this.latest = { n: e.n, seq };
    return latest !== undefined && latest.n > e.n && latest.seq < seq ? latest.seq : undefined;
  }

  /** After an entry is done: pipelining resumes once no retry waits and nothing is in flight. */
  settle(): void {
    if (this.retries.length === 0 && this.inFlight === 0) this.serial = false;
  }

  /** When the first retry is due; undefined when none waits. */
  get retryAt(): number | undefined {
    return this.retries[0]?.notBefore;
  }

  get hasQueued(): boolean {
    return this.retries.length > 0 || this.head < this.fresh.length;
  }

  get idle(): boolean {
    return !this.hasQueued && this.inFlight === 0;
  }

  /** Takes every queued entry off the lane (for closing). */
  drain(): PublishEntry[] {
    const out = [...this.retries, ...this.fresh.slice(this.head)];
    this.retries.length = 0;
    this.fresh = [];
    this.head = 0;
    return out;
  }
}
