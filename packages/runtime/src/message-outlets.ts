import { randomUUID } from "node:crypto";
import { HeaderNames, RiffError, toRiffError, type Headers, type Logger } from "@riff/core";
import type { Broker, StoredMessage } from "@riff/broker";
import { nextEventHeaders, RIFF_REPLY_TYPE, type Hop } from "@riff/protocol";
import { persistently } from "./delivery-guards.js";
import type { InvokeResult, Replica, StreamHandle } from "./replica.js";
import { deadLetterOf, type DeadLetterCause } from "./dead-letter.js";

/** Who waits for a message's reply: its correlation id, and in a cluster the node of the caller. */
export interface ReplyAddress {
  correlationId: string;
  node?: string | undefined;
}

/** Where replies to `/requests` callers go: the gateway's waiters, here or on another node. */
export interface ReplySink {
  /** Returns (or resolves) whether a caller was waiting and took it. */
  deliver(to: ReplyAddress, outcome: { headers: Headers; payload: Uint8Array } | RiffError): boolean | Promise<boolean>;
}

/** What the outlets need from their function's runner. */
export interface OutletOptions {
  name: string;
  output: string | undefined;
  /** The function's dead-letter topic. */
  deadLetter: string;
  /** Whether a function reads the output topic now (else this function is a pipeline's end). */
  outputHasReaders: () => boolean;
  broker: Broker;
  replies: ReplySink;
  logger: Logger;
  /** A line in the function's log. */
  log: (replica: string, line: string) => void;
  /** Something happened (a stream output): the function is not idle. */
  touch: () => void;
  /** A message went to the dead-letter topic, for `code` (telemetry counts it). */
  deadLettered?: (code: string) => void;
  /** Aborts when the function stops: writes are not tried again after it. */
  signal: AbortSignal;
}

/** Who waits for the reply to a `/requests` message, if anyone. */
export function replyAddressOf(message: StoredMessage): ReplyAddress | undefined {
  const correlationId = message.headers[HeaderNames.correlationId]?.[0];
  if (correlationId === undefined) return undefined;
  return { correlationId, node: message.headers[HeaderNames.replyNode]?.[0] };
}

/**
 * The ways out of a runner: replies to `/requests` callers, the output topic, the dead-letter
 * topic for messages riff will not deliver, and the open streams of stream functions, whose
 * outputs are not tied to inputs.
 */
export class MessageOutlets {
  private readonly streams = new Map<Replica, StreamHandle>();
  /** The stream outputs being published, in order. */
  private streamOutputs: Promise<void> = Promise.resolve();

  /** The `source` of the events this function sends. */
  private readonly source: string;

  constructor(private readonly o: OutletOptions) {
    this.source = `/riff/functions/${o.name}`;
  }

  /**
   * Writes a result (a reply, the output, a dead letter) before the offset is committed,
   * trying again while the failure may pass. One that will not (a result too large for its
   * topic) must not hold the partition for good: the input goes to the dead-letter topic.
   * Rejects only once the function is stopping.
   */
  async written(message: StoredMessage, write: () => Promise<unknown>): Promise<void> {
    const moved = () => message.lease !== undefined && !message.lease.held();
    try {
      await this.persistently(write, moved);
    } catch (err) {
      // Stopping, or the partition went to another node, which handles the message again.
      if (this.o.signal.aborted || moved()) throw err;
      const e = toRiffError(err);
      const source = `${message.topic}/${message.partition}@${message.offset}`;
      this.o.log(this.o.name, `${source}: its result could not be written (${e.code}: ${e.message})`);
      try {
        const now = Date.now();
        const cause = { code: e.code, reason: `its result could not be written: ${e.code}: ${e.message}`, attempts: 1, firstFailureAt: now, lastFailureAt: now };
        await this.persistently(() => this.deadLetter(message, cause), moved);
      } catch (again) {
        if (this.o.signal.aborted || moved()) throw again;
        this.o.logger.error("a message could be neither handled nor dead-lettered; it is dropped", { message: source, err: String(again) });
      }
    }
  }

  private persistently(write: () => Promise<unknown>, moot: () => boolean): Promise<void> {
    return persistently(
      write,
      this.o.signal,
      (err, waitMs) => this.o.logger.error("writing a result failed; trying again", { err: String(err), waitMs }),
      moot,
    );
  }

  /** Answers the message's caller and publishes the result to the output topic, if any. */
  async deliverResult(message: StoredMessage, carried: Headers, result: InvokeResult | undefined): Promise<void> {
    if (result === undefined) return;
    const output = this.o.output;
    const to = replyAddressOf(message);
    // A caller who asked for the pipeline's reply gets it from the last function, the one
    // whose output no function reads; every other function answers the caller itself.
    const fromEnd = carried[HeaderNames.replyFrom]?.[0] === "end" && output !== undefined && this.o.outputHasReaders();
    if (to !== undefined && !fromEnd) {
      // The reply is an event of its own, in binary mode, with the caller's extensions.
      const headers = nextEventHeaders(carried, result.headers, this.hop(RIFF_REPLY_TYPE), "attributes");
      void this.o.replies.deliver(to, { headers, payload: result.payload });
    }
    if (output !== undefined) {
      // The key goes along, so a key's messages keep their order through every stage. The
      // output keeps the input's headers (correlation id, trace, user headers, the event's
      // type and extensions) but is a new event, with the result's content type.
      const next = { headers: nextEventHeaders(carried, result.headers, this.hop(), "all"), payload: result.payload };
      await this.o.broker.publish(output, message.key === undefined ? next : { ...next, key: message.key });
    }
  }

  /**
   * The function failed on the message: a `/requests` caller waiting for it gets the error,
   * which is the end of it (no retry: the caller decides). Resolves whether one took it; a
   * message nobody waits for (none ever did, the caller was answered earlier in the pipeline,
   * or gave up) is the runner's to retry or dead-letter.
   */
  async answered(message: StoredMessage, err: RiffError): Promise<boolean> {
    const to = replyAddressOf(message);
    if (to === undefined || !(await this.o.replies.deliver(to, err))) return false;
    this.o.log(this.o.name, `${message.topic}/${message.partition}@${message.offset} failed: ${err.code}: ${err.message}`);
    return true;
  }

  /**
   * Sends a message to the function's dead-letter topic with why, and tells a caller still
   * waiting (a hop limit, a replica lost) why it gets no reply. Resolves once it is stored
   * there, so the offset is committed only after.
   */
  async deadLetter(message: StoredMessage, cause: DeadLetterCause): Promise<undefined> {
    const topic = this.o.deadLetter;
    const source = `${message.topic}/${message.partition}@${message.offset}`;
    this.o.log(this.o.name, `${source} not delivered after ${cause.attempts} attempt(s): ${cause.reason}; sent to topic '${topic}'`);
    this.o.logger.warn("message sent to the dead-letter topic", { source, reason: cause.reason, topic });
    await this.o.broker.ensureTopic(topic);
    await this.o.broker.publish(topic, deadLetterOf(message, this.o.name, cause));
    this.o.deadLettered?.(cause.code);
    const to = replyAddressOf(message);
    if (to !== undefined && (cause.code === "RIFF_HOP_LIMIT" || cause.code === "RIFF_REPLICA_LOST")) {
      void this.o.replies.deliver(
        to,
        new RiffError(cause.code, `the message was stopped at function '${this.o.name}' and sent to ${topic}: ${cause.reason}`, {
          hint:
            cause.code === "RIFF_HOP_LIMIT"
              ? `check the topic graph with \`riff graph\`; see the message with \`riff dead-letters list ${this.o.name}\``
              : `see why with \`riff logs -n ${this.o.name}\`; see the message with \`riff dead-letters list ${this.o.name}\``,
        }),
      );
    }
    return undefined;
  }

  /**
   * A stream function gets the message on its replica's open stream. The message counts as
   * handled once it is handed over: what the function keeps in memory (an open window) is its
   * own state, and outputs come later, unrelated to any one input.
   */
  feedStream(replica: Replica, message: StoredMessage, headers: Headers): Promise<undefined> {
    let stream = this.streams.get(replica);
    if (stream === undefined && replica.openStream !== undefined) {
      stream = replica.openStream({}, {
        output: (h, payload) => this.onStreamOutput(h, payload),
        end: (err) => {
          this.streams.delete(replica);
          if (err !== undefined) this.o.log(replica.id, `stream failed: ${err.message}`);
        },
      });
      this.streams.set(replica, stream);
    }
    stream?.send(headers, message.payload);
    const to = replyAddressOf(message);
    if (to !== undefined) {
      void this.o.replies.deliver(
        to,
        new RiffError("RIFF_INVALID_ARGUMENT", `function '${this.o.name}' is a stream function and sends no replies`, {
          hint: this.o.output === undefined ? "give it an output topic and read that" : `read its output topic: riff topics tail ${this.o.output}`,
        }),
      );
    }
    return Promise.resolve(undefined);
  }

  /** The attributes of a new event this function sends: an id of its own, the function as its source. */
  private hop(type?: string): Hop {
    return type === undefined ? { id: randomUUID(), source: this.source } : { id: randomUUID(), source: this.source, type };
  }

  private onStreamOutput(headers: Headers, payload: Uint8Array): void {
    this.o.touch();
    const output = this.o.output;
    if (output === undefined) {
      this.o.log(this.o.name, "a stream output was dropped: the function has no output topic");
      return;
    }
    // One after another, each until it is stored (or will never be), so the outputs keep
    // their order and one lost while NATS is away is sent again.
    const message = { headers: nextEventHeaders({}, headers, this.hop(), "all"), payload };
    this.streamOutputs = this.streamOutputs
      .then(() => this.persistently(() => this.o.broker.publish(output, message), () => false))
      .catch((err: unknown) => {
        if (!this.o.signal.aborted) this.o.log(this.o.name, `publishing a stream output to '${output}' failed: ${String(err)}`);
      });
  }
}

