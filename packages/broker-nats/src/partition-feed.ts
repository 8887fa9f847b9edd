import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import { type Consumer, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager } from "nats";
import { openReader } from "./reader.js";
import type { Lease } from "./lease.js";
import { toStored } from "./partition-streams.js";

/** What a feed needs from its surroundings. */
export interface FeedTarget {
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  topic: string;
  partition: number;
  /** Most messages buffered before the feed stops reading. */
  readAhead: number;
  /** Called after messages were buffered. */
  onData(): void;
  /** The end offset of the partition as this instance last knew it (to notice a stalled read). */
  knownEnd(): number;
  /** Called with an end offset that a delivered message proves, so commits up to it need no look at the server. */
  observe(end: number): void;
  /** Calls `fn` each time the connection to NATS comes back; returns the unsubscribe function. */
  onReconnect(fn: () => void): () => void;
  logger: Logger;
}

/** Waits after a failed read before the feed opens its consumer again; the last one repeats. */
const REOPEN_MS = [250, 1000, 2000, 5000] as const;
/** A feed that received nothing for this long while the partition has more is opened again. */
const STALL_MS = 5000;
/** How often a feed looks for that: a stall is seen at most this long after {@link STALL_MS}. */
const STALL_CHECK_MS = 1000;
/** Readers opened again at one offset, after starting past it, before the gap is taken as retention. */
const MAX_REGAPS = 3;

/**
 * One partition read for the instance that holds it, from an offset on: an ephemeral JetStream
 * consumer (no acks: the offset store has the commits; see openReader) pulls messages into a buffer
 * the group takes from without waiting. Each message carries the lease it was delivered under
 * (its generation, and a signal that aborts when it is lost), so the runner can stop what it
 * started under it.
 *
 * A feed never gives up while open: a consumer that fails (a server restarted, the stream's
 * leader moved, NATS away for a minute) or goes quiet while the partition has more messages is
 * opened again where the feed stood, after a growing wait. When the connection comes back
 * (its server stopped, and the client moved to another), the consumer is opened again at
 * once: the old one's pulls went to a server that is gone, and waiting for the stall to show
 * held the partition's messages 5-8 s.
 */
export class PartitionFeed {
  private readonly buffer: StoredMessage[] = [];
  private head = 0;
  private messages: ConsumerMessages | undefined;
  /** The server's consumer now read, deleted when the feed closes or opens another. */
  private reader: Consumer | undefined;
  private closed = false;
  /** The offset whose reader started past it, and how often it was opened again for it. */
  private regapAt = -1;
  private regaps = 0;
  private resume: (() => void) | undefined;
  /** The next offset to read from the server. */
  private next: number;
  private lastArrival = performance.now();
  private readonly done = new AbortController();
  private readonly unwatch: () => void;

  constructor(
    private readonly target: FeedTarget,
    from: number,
    private readonly lease: Lease,
  ) {
    this.next = from;
    this.unwatch = target.onReconnect(() => {
      if (this.closed) return;
      target.logger.info("the connection to NATS came back; reading the partition again", { partition: target.partition, from: this.next });
      this.reader?.delete().catch(() => undefined);
      this.messages?.stop();
    });
    void this.run();
  }

  /** Up to `max` buffered messages, oldest first. */
  take(max: number): StoredMessage[] {
    const available = this.buffer.length - this.head;
    if (available <= 0) return [];
    const n = Math.min(max, available);
    const out = this.buffer.slice(this.head, this.head + n);
    this.head += n;
    if (this.head === this.buffer.length) {
      this.buffer.length = 0;
      this.head = 0;
    }
    if (this.resume !== undefined && this.buffer.length - this.head < this.target.readAhead) {
      this.resume();
      this.resume = undefined;
    }
    return out;
  }

  /** Stops reading; the server drops the ephemeral consumer. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    this.done.abort();
    this.messages?.stop();
    this.reader?.delete().catch(() => undefined);
    this.resume?.();
  }

  private async run(): Promise<void> {
    const t = this.target;
    const watchdog = setInterval(() => this.checkStall(), STALL_CHECK_MS);
    watchdog.unref();
    for (let failures = 0; !this.closed; ) {
      try {
        await this.read();
        failures = 0;
      } catch (err) {
        this.reader?.delete().catch(() => undefined);
        if (this.closed) break;
        t.logger.warn("reading a partition failed; reading it again", { partition: t.partition, from: this.next, err: String(err) });
        failures++;
      }
      if (this.closed) break;
      const wait = REOPEN_MS[Math.min(failures, REOPEN_MS.length - 1)] ?? 5000;
      await sleep(wait, undefined, { signal: this.done.signal }).catch(() => undefined);
    }
    clearInterval(watchdog);
  }

  /** One consumer's life: opened at `next`, read until it ends, fails, or the feed closes. */
  private async read(): Promise<void> {
    const t = this.target;
    const consumer = await openReader(t.jsm, t.js, t.stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.next + 1 });
    if (this.closed) {
      consumer.delete().catch(() => undefined);
      return;
    }
    // A reader deleted under it (idle too long while this feed's buffer was full, a server
    // restarted) ends the iteration, and run() opens a new one where it stood.
    this.messages = await consumer.consume({ max_messages: Math.min(t.readAhead, 512), abort_on_missing_resource: true });
    this.reader = consumer;
    if (this.closed) {
      this.messages.stop();
      return;
    }
    const lease = this.lease.forMessages();
    for await (const m of this.messages) {
      if (this.closed) break;
      const message = toStored(t.topic, t.partition, m);
      // A consumer opened again may repeat what was read already.
      if (message.offset < this.next) continue;
      if (message.offset > this.next) {
        // A gap is retention only if the stream no longer holds the missing offsets. A reader
        // opened while a stream leader changes was seen to start past messages the stream holds:
        // those are read again rather than skipped (a few times, in case they are truly gone).
        if (this.regapAt !== this.next) this.regaps = 0;
        if (this.regaps < MAX_REGAPS && !(await this.retentionGap())) {
          this.regapAt = this.next;
          this.regaps++;
          t.logger.warn("a reader started past messages the stream still holds; reading them again", { partition: t.partition, from: this.next, got: message.offset });
          this.reader?.delete().catch(() => undefined);
          return;
        }
        t.logger.warn("retention deleted messages the group had not read", { partition: t.partition, from: this.next, resumedAt: message.offset });
      }
      this.next = message.offset + 1;
      t.observe(this.next);
      this.lastArrival = performance.now();
      if (lease !== undefined) message.lease = lease;
      this.buffer.push(message);
      t.onData();
      if (this.buffer.length - this.head >= t.readAhead) {
        await new Promise<void>((resolve) => (this.resume = resolve));
      }
    }
  }

  /** Whether the stream's first retained offset is past the next one this feed wants (unknown: no). */
  private async retentionGap(): Promise<boolean> {
    try {
      const si = await this.target.jsm.streams.info(this.target.stream);
      return si.state.first_seq - 1 > this.next;
    } catch {
      return false;
    }
  }

  /**
   * An ordered consumer left unread for a while on a backlog was seen to stall for good
   * (docs/broker-nats.md): when the buffer is empty, the partition has more, and nothing came
   * for {@link STALL_MS}, the consumer is stopped so that `run` opens a new one.
   */
  private checkStall(): void {
    if (this.closed || this.buffer.length - this.head > 0) return;
    if (performance.now() - this.lastArrival < STALL_MS || this.target.knownEnd() <= this.next) return;
    this.target.logger.warn("a partition's read stalled; opening it again", { partition: this.target.partition, at: this.next });
    this.lastArrival = performance.now();
    this.messages?.stop();
  }
}
