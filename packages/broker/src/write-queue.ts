import type { Logger } from "@riff/core";
import type { Position, StoredMessage } from "./broker.js";
import { writeFailed } from "./broker-errors.js";
import type { PendingCommit, PendingMessage, SqliteTopicLog } from "./topic-log.js";

/** One publish or publishBatch call waiting for the next flush. */
interface PublishRequest {
  /** How many of the queue's messages, in order, belong to this call. */
  count: number;
  /** A single publish resolves with one Position, a batch with an array. */
  single: boolean;
  resolve: (value: never) => void;
  reject: (err: unknown) => void;
}

interface CommitRequest {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Called after each successful flush with what was appended, in offset order per partition. */
export type FlushListener = (messages: StoredMessage[], positions: Position[]) => void;

/**
 * Told of each write transaction: how many messages it appended (0 for offset commits alone)
 * and how long the transaction took, COMMIT (and its fsync, where durability asks for one)
 * included. For the broker's metrics; it must be cheap, and it must not throw.
 */
export type WriteObserver = (messages: number, seconds: number) => void;

/**
 * Group commit for one topic. Publishes and offset commits made during one turn of the event
 * loop are written by a single transaction on the next turn (setImmediate: no timer, so a lone
 * publish waits for nothing but the I/O already queued), and their promises settle only after
 * COMMIT returned. Under load a turn carries many calls, which is what makes it fast.
 */
export class WriteQueue {
  private messages: PendingMessage[] = [];
  private requests: PublishRequest[] = [];
  private commits = new Map<string, PendingCommit>();
  private commitRequests: CommitRequest[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private readonly flushBound = (): void => {
    this.scheduled = undefined;
    this.flush();
  };

  constructor(
    private readonly log: SqliteTopicLog,
    private readonly logger: Logger,
    private readonly onFlushed: FlushListener,
    /** Read at each flush, so an observer set after the topic opened is heard. */
    private readonly observer: () => WriteObserver | undefined = () => undefined,
  ) {}

  /** Queues one message; resolves with its position once durable. */
  publish(message: PendingMessage): Promise<Position> {
    return new Promise<Position>((resolve, reject) => {
      this.messages.push(message);
      this.requests.push({
        count: 1,
        single: true,
        resolve: resolve as (v: never) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Queues messages as one call; resolves with their positions, in order, once durable. */
  publishBatch(messages: PendingMessage[]): Promise<Position[]> {
    return new Promise<Position[]>((resolve, reject) => {
      for (const m of messages) this.messages.push(m);
      this.requests.push({
        count: messages.length,
        single: false,
        resolve: resolve as (v: never) => void,
        reject,
      });
      this.schedule();
    });
  }

  /** Queues a group's committed offset; a later one for the same partition replaces it. */
  commit(group: string, partition: number, committed: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.commits.set(`${group}\u0000${partition}`, { group, partition, committed });
      this.commitRequests.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Writes everything queued now; used by the scheduled turn and by stop(). */
  flush(): void {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.messages.length === 0 && this.commits.size === 0) return;
    const messages = this.messages;
    const requests = this.requests;
    const commitRequests = this.commitRequests;
    const commits = [...this.commits.values()];
    this.messages = [];
    this.requests = [];
    this.commits = new Map();
    this.commitRequests = [];
    let stored: StoredMessage[];
    const observer = this.observer();
    // Timed only when someone listens: performance.now() is cheap, but not free.
    const began = observer === undefined ? 0 : performance.now();
    try {
      stored = this.log.append(messages, commits, Date.now());
    } catch (err) {
      const error = writeFailed(this.log.info.name, err);
      this.logger.error("write failed", {
        topic: this.log.info.name,
        code: error.code,
        error: error.message,
      });
      for (const r of requests) r.reject(error);
      for (const r of commitRequests) r.reject(error);
      return;
    }
    const positions = new Array<Position>(stored.length);
    let i = 0;
    for (const r of requests) {
      if (r.single) {
        const m = stored[i] as StoredMessage;
        const position = { topic: m.topic, partition: m.partition, offset: m.offset };
        positions[i++] = position;
        r.resolve(position as never);
      } else {
        const batch = new Array<Position>(r.count);
        for (let j = 0; j < r.count; j++) {
          const m = stored[i] as StoredMessage;
          const position = { topic: m.topic, partition: m.partition, offset: m.offset };
          batch[j] = position;
          positions[i++] = position;
        }
        r.resolve(batch as never);
      }
    }
    for (const r of commitRequests) r.resolve();
    if (observer !== undefined) observer(stored.length, (performance.now() - began) / 1000);
    if (stored.length > 0) this.onFlushed(stored, positions);
  }

  /** Rejects everything queued with `err` (the topic was deleted or the broker stopped). */
  fail(err: unknown): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    for (const r of this.requests) r.reject(err);
    for (const r of this.commitRequests) r.reject(err);
    this.messages = [];
    this.requests = [];
    this.commits = new Map();
    this.commitRequests = [];
  }

  private schedule(): void {
    if (this.scheduled === undefined) this.scheduled = setImmediate(this.flushBound);
  }
}
