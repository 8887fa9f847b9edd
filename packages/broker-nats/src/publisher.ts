import type { Logger } from "@riff/core";
import { type Msg, type MsgHdrs, type NatsConnection, type Subscription, createInbox, headers as natsHeaders } from "nats";
import { JsErrorCodes } from "./errors.js";
import { type PublishAck, PublishError, type PublishFailureReason } from "./publish-error.js";
import { type PublishEntry, PublishLane } from "./publish-lane.js";

export { type PublishAck, PublishError, type PublishFailureReason } from "./publish-error.js";

/** JetStream's deduplication header: a retry with the same id is stored once. */
export const MSG_ID_HEADER = "Nats-Msg-Id";
/** First retry delay; it doubles per attempt (ADR-22's schedule), up to {@link RETRY_MAX_MS}. */
export const RETRY_BASE_MS = 250;
export const RETRY_MAX_MS = 2_000;
/** The one timer's period: it times out acks and releases retries, so both are this coarse. */
const TICK_MS = 50;
/** Most messages one partition sends before another partition with queued messages gets a turn. */
const LANE_BURST = 64;

/** What {@link StreamPublisher} needs. */
export interface PublisherOptions {
  /** Start of every message id: unique to this publisher, so ids never collide across riff nodes. */
  idPrefix: string;
  /** Most publishes sent and not yet acknowledged; later ones queue. */
  window: number;
  /** How long one attempt waits for its ack. */
  ackTimeoutMs: number;
  /** How long after the call a failure that may pass is still retried. */
  retryMs: number;
  /** False while the connection is down: nothing is sent then, and publishes fail at once. */
  isConnected(): boolean;
  logger: Logger;
}

type AckBody = { stream?: string; seq?: number; duplicate?: boolean; error?: { err_code?: number; description?: string } };

const text = new TextDecoder();

/**
 * Publishes into JetStream streams without a request per message: one wildcard inbox
 * subscription receives every ack, a map pairs acks with publishes, a window bounds what is in
 * flight, and one coarse timer times out the oldest acks. (nats.js `js.publish` makes a
 * request, a timer and an Error stack per message, which caps it at about a quarter of this.)
 * Every message carries a `Nats-Msg-Id`, and a failure that may pass is retried with the same
 * id and a doubling backoff within `retryMs`, so a message whose ack was lost is stored once.
 * Order per subject: see {@link PublishLane}. Never publishes without waiting for the ack: a
 * core publish into a stream can be lost silently.
 */
export class StreamPublisher {
  private readonly inbox: string;
  private readonly sub: Subscription;
  /** Sent and awaiting an ack, by reply token, in send order (a re-send gets a new token). */
  private readonly pending = new Map<string, PublishEntry>();
  private readonly lanes = new Map<string, PublishLane>();
  /** Lanes that may have something to send, in turn order. */
  private readonly ready = new Set<PublishLane>();
  /** Lanes with a retry waiting for its backoff. */
  private readonly retrying = new Set<PublishLane>();
  private count = 0;
  private token = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The pump scheduled for the end of this turn of the event loop, see {@link publish}. */
  private scheduled: NodeJS.Immediate | undefined;
  private pumping = false;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: PublisherOptions,
  ) {
    this.inbox = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.inbox}*`, { callback: (_err, msg) => this.answered(msg) });
  }

  /** Publishes sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends `payload` to `subject` (whose stream must exist) and resolves with JetStream's ack.
   * Calls are sent in call order; `headers` is taken over (the id is added to it). `callerId`,
   * when given, is the message id instead of one of this publisher's: JetStream then stores
   * one message per id within its duplicate window, whichever node publishes it.
   */
  publish(subject: string, payload: Uint8Array, headers?: MsgHdrs, callerId?: string): Promise<PublishAck> {
    const n = ++this.count;
    const id = callerId ?? `${this.options.idPrefix}.${n.toString(36)}`;
    if (this.closed) return Promise.reject(new PublishError("the publisher is closed", "closed", 0, id, payload.byteLength));
    if (!this.options.isConnected()) {
      return Promise.reject(new PublishError("not connected to NATS", "disconnected", 0, id, payload.byteLength));
    }
    const hdrs = headers ?? natsHeaders();
    hdrs.set(MSG_ID_HEADER, id);
    return new Promise<PublishAck>((resolve, reject) => {
      let lane = this.lanes.get(subject);
      if (lane === undefined) this.lanes.set(subject, (lane = new PublishLane(subject)));
      const deadline = Date.now() + this.options.retryMs;
      lane.push({ n, id, payload, headers: hdrs, lane, deadline, attempts: 0, sentAt: 0, notBefore: 0, resolve, reject });
      this.ready.add(lane);
      // Sent at the end of this turn of the event loop, with every publish called in it (the
      // HTTP requests read in one poll): nats.js writes to its socket once per microtask
      // checkpoint, so a publish sent at once costs a write here and a read on the server per
      // message, which was the largest share of a cluster node's CPU; sent together they cost
      // one of each, and the stream's leader gets them at once, to replicate in fewer appends.
      // Order is the lanes' (call order), and nothing is acknowledged before its ack.
      this.scheduled ??= setImmediate(() => {
        this.scheduled = undefined;
        this.pump();
      });
    });
  }

  /**
   * The connection dropped: whatever was in flight may or may not have reached a stream, and
   * its ack will not come on this connection. Retried (same ids) once the backoff passes; if
   * the connection is still down then, they fail at once.
   */
  connectionLost(): void {
    for (const [token, e] of this.pending) {
      this.unsend(token, e);
      this.retryOrFail(e, "disconnected", "the connection to NATS dropped before the ack came");
    }
    this.pump();
  }

  /** Fails everything queued or in flight with `closed`, and stops listening for acks. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearImmediate(this.scheduled);
    const message = "the publisher is closed";
    for (const [token, e] of this.pending) {
      this.unsend(token, e);
      this.fail(e, "closed", message);
    }
    for (const lane of this.lanes.values()) for (const e of lane.drain()) this.fail(e, "closed", message);
    this.lanes.clear();
    this.sub.unsubscribe();
  }

  /** Sends what the window and the lanes allow, a burst per lane in turn. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      const now = Date.now();
      for (const lane of this.ready) {
        if (this.pending.size >= this.options.window) break;
        for (let burst = 0; ; burst++) {
          if (this.pending.size >= this.options.window) break;
          if (burst === LANE_BURST) {
            // To the back of the turn order, behind the other lanes with queued messages.
            this.ready.delete(lane);
            this.ready.add(lane);
            break;
          }
          const next = lane.take(now);
          if (next === undefined) {
            this.ready.delete(lane);
            break;
          }
          this.send(next);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private send(e: PublishEntry): void {
    if (!this.options.isConnected()) {
      this.fail(e, "disconnected", "not connected to NATS");
      return;
    }
    const token = (++this.token).toString(36);
    e.attempts++;
    e.sentAt = Date.now();
    this.pending.set(token, e);
    e.lane.inFlight++;
    try {
      this.nc.publish(e.lane.subject, e.payload, { reply: this.inbox + token, headers: e.headers });
    } catch (err) {
      // Refused by the client itself (over max_payload, connection closed): sending again won't help.
      this.unsend(token, e);
      this.fail(e, "rejected", err instanceof Error ? err.message : String(err));
      return;
    }
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  /** An ack (or a status) for the attempt with this reply subject. */
  private answered(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const e = this.pending.get(token);
    // An attempt given up on already: its retry carries another token.
    if (e === undefined) return;
    this.unsend(token, e);
    if (msg.headers?.hasError === true && msg.headers.code === 503) {
      this.retryOrFail(e, "no-responders", "no stream leader answered (503 no responders)");
    } else {
      let ack: AckBody;
      try {
        ack = JSON.parse(text.decode(msg.data)) as AckBody;
      } catch {
        ack = { error: { description: `an answer that is not a JetStream ack: ${text.decode(msg.data).slice(0, 100)}` } };
      }
      const { error } = ack;
      if (error === undefined) this.stored(e, { stream: ack.stream ?? "", seq: ack.seq ?? 0, duplicate: ack.duplicate === true });
      else {
        const description = `${error.description ?? "unknown error"} (${error.err_code ?? "no code"})`;
        if (error.err_code === JsErrorCodes.temporarilyUnavailable) this.retryOrFail(e, "unavailable", description);
        else this.fail(e, "rejected", description, error.err_code);
      }
    }
    this.pump();
  }

  private stored(e: PublishEntry, ack: PublishAck): void {
    const laterSeq = e.lane.stored(e, ack.seq);
    if (laterSeq !== undefined) {
      // A later publish of this partition was in flight when this one failed, and reached the
      // stream while this one did not (docs/broker-nats.md, "Publishing").
      this.options.logger.warn("a retried publish was stored after a later one of the same partition", {
        subject: e.lane.subject,
        msgId: e.id,
        seq: ack.seq,
        laterSeq,
      });
    }
    e.resolve(ack);
    this.settled(e.lane);
  }

  /**
   * Queues `e` again after its backoff, the last time at its deadline (so the whole budget is
   * used: a leader election takes seconds); fails it once the deadline has passed.
   */
  private retryOrFail(e: PublishEntry, reason: PublishFailureReason, message: string): void {
    const now = Date.now();
    if (this.closed || now >= e.deadline) {
      this.fail(e, reason, message);
      return;
    }
    const delay = Math.min(RETRY_BASE_MS * 2 ** (e.attempts - 1), RETRY_MAX_MS);
    e.lane.requeue(e, Math.min(now + delay, e.deadline));
    this.retrying.add(e.lane);
  }

  private fail(e: PublishEntry, reason: PublishFailureReason, message: string, apiCode?: number): void {
    e.reject(new PublishError(message, reason, e.attempts, e.id, e.payload.byteLength, apiCode));
    this.settled(e.lane);
  }

  /** After an entry of `lane` is done: let it send again, or forget it when it is empty. */
  private settled(lane: PublishLane): void {
    lane.settle();
    if (lane.hasQueued) this.ready.add(lane);
    else if (lane.idle && this.lanes.get(lane.subject) === lane) {
      this.lanes.delete(lane.subject);
      this.retrying.delete(lane);
    }
  }

  private unsend(token: string, e: PublishEntry): void {
    this.pending.delete(token);
    e.lane.inFlight--;
  }

  /** Times out the oldest attempts, wakes lanes whose retry is due, and sleeps when idle. */
  private tick(): void {
    const now = Date.now();
    // Insertion order is send order and the timeout is the same for all: stop at the first young one.
    for (const [token, e] of this.pending) {
      if (now - e.sentAt < this.options.ackTimeoutMs) break;
      this.unsend(token, e);
      this.retryOrFail(e, "timeout", `no ack within ${this.options.ackTimeoutMs} ms`);
    }
    for (const lane of this.retrying) {
      const at = lane.retryAt;
      if (at === undefined) this.retrying.delete(lane);
      else if (at <= now) this.ready.add(lane);
    }
    this.pump();
    if (this.pending.size === 0 && this.retrying.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
