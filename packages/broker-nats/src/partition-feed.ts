import type { Logger } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import { type ConsumerMessages, DeliverPolicy, type JetStreamClient } from "nats";
import { toStored } from "./partition-streams.js";

/** What a feed needs from its surroundings. */
export interface FeedTarget {
  js: JetStreamClient;
  stream: string;
  topic: string;
  partition: number;
  /** Most messages buffered before the feed stops reading. */
  readAhead: number;
  /** Called after messages were buffered, and after the feed failed. */
  onData(): void;
  logger: Logger;
}

/**
 * One partition read for one group member, from an offset on: an ordered JetStream consumer
 * (ephemeral, no acks; the client recreates it on a gap) pulls messages into a buffer that the
 * group takes from without waiting. New messages arrive as the server pushes them, whoever
 * published them, so a caught-up member needs no timer. Reading pauses while the buffer is full.
 */
export class PartitionFeed {
  private readonly buffer: StoredMessage[] = [];
  private head = 0;
  private messages: ConsumerMessages | undefined;
  private closed = false;
  private resume: (() => void) | undefined;
  /** Set when reading failed; the group closes the member that takes next. */
  failure: unknown;

  constructor(
    private readonly target: FeedTarget,
    private readonly from: number,
  ) {
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
    this.messages?.stop();
    this.resume?.();
  }

  private async run(): Promise<void> {
    const t = this.target;
    try {
      const consumer = await t.js.consumers.get(t.stream, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.from + 1,
      });
      if (this.closed) return;
      this.messages = await consumer.consume({ max_messages: Math.min(t.readAhead, 512) });
      if (this.closed) {
        this.messages.stop();
        return;
      }
      let expected = this.from;
      for await (const m of this.messages) {
        if (this.closed) break;
        const message = toStored(t.topic, t.partition, m);
        if (message.offset > expected) {
          t.logger.warn("retention deleted messages the group had not read", {
            partition: t.partition,
            from: expected,
            resumedAt: message.offset,
          });
        }
        expected = message.offset + 1;
        this.buffer.push(message);
        t.onData();
        if (this.buffer.length - this.head >= t.readAhead) {
          await new Promise<void>((resolve) => (this.resume = resolve));
        }
      }
    } catch (err) {
      if (this.closed) return;
      this.failure = err;
      t.logger.error("reading a partition failed", { partition: t.partition, error: String(err) });
      t.onData();
    }
  }
}
