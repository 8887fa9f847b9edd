import { fromErrorBody, RiffError, type ErrorBody, type Headers, type Logger } from "@riff/core";
import type { ReplyAddress, ReplySink } from "@riff/runtime";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection, type Subscription } from "nats";
import type { ClusterNames } from "./names.js";

/** A function's reply, or why there is none: what a `/requests` waiter takes. */
export type ReplyOutcome = { headers: Headers; payload: Uint8Array } | RiffError;

/** The waiters of this node's gateway, by correlation id. */
export interface LocalReplies {
  deliver(correlationId: string, outcome: ReplyOutcome): boolean;
}

/** How long a node waits to learn whether another node's caller took an error. */
const ASK_TIMEOUT_MS = 2000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Replies across nodes (nats.md §3). A `/requests` message names the node whose gateway holds
 * the caller (`riff-reply-node`); whichever node runs the function sends the reply there on
 * that node's own core subject, never a queue group or a shared consumer, which was riff
 * 0.0.7's bug. Replies are at most once: a gateway that died holds no caller anyway. An error
 * is sent as a request, so the sender learns whether a caller took it or the message should go
 * to the dead letters.
 */
export class ReplyBus implements ReplySink {
  private sub: Subscription | undefined;
  /** Replies to other nodes, sent together at the end of this turn of the event loop. */
  private outbox: { subject: string; data: Uint8Array; headers: MsgHdrs }[] = [];
  private sending: NodeJS.Immediate | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: ClusterNames,
    private readonly node: string,
    private readonly local: LocalReplies,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.names.reply(this.node), {
      callback: (err, msg) => {
        if (err !== null) return;
        const cid = msg.headers?.get("Riff-Correlation") ?? "";
        let taken = false;
        try {
          const error = msg.headers?.get("Riff-Error");
          const outcome: ReplyOutcome = error
            ? fromErrorBody(JSON.parse(error) as ErrorBody)
            : { headers: JSON.parse(msg.headers?.get("Riff-Headers") || "{}") as Headers, payload: msg.data };
          taken = this.local.deliver(cid, outcome);
        } catch (e) {
          this.logger.warn("a reply from another node could not be read", { err: String(e) });
        }
        if (msg.reply) msg.respond(encoder.encode(JSON.stringify({ taken })));
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
    // What is queued goes now: stopping does not wait for the next turn.
    if (this.sending !== undefined) {
      clearImmediate(this.sending);
      this.send();
    }
  }

  deliver(to: ReplyAddress, outcome: ReplyOutcome): boolean | Promise<boolean> {
    if (to.node === undefined || to.node === this.node) return this.local.deliver(to.correlationId, outcome);
    const h = natsHeaders();
    h.set("Riff-Correlation", to.correlationId);
    let data: Uint8Array;
    if (outcome instanceof RiffError) {
      h.set("Riff-Error", JSON.stringify(outcome.toJSON()));
      data = new Uint8Array(0);
    } else {
      h.set("Riff-Headers", JSON.stringify(outcome.headers));
      data = outcome.payload;
    }
    const subject = this.names.reply(to.node);
    if (!(outcome instanceof RiffError)) {
      if (this.nc.isClosed()) return false;
      // Queued, as the broker's publisher does, for one socket write per turn rather than one per
      // reply (nats.js writes once per microtask checkpoint): a reply is a core publish, at most
      // once, and its sender does not wait on it.
      this.outbox.push({ subject, data, headers: h });
      this.sending ??= setImmediate(() => this.send());
      return true;
    }
    try {
      return this.nc.request(subject, data, { headers: h, timeout: ASK_TIMEOUT_MS }).then(
        (answer) => (JSON.parse(decoder.decode(answer.data)) as { taken?: boolean }).taken === true,
        // Nobody answered: that node and its caller are gone.
        () => false,
      );
    } catch (err) {
      this.logger.warn("a reply could not be sent to another node", { node: to.node, err: String(err) });
      return false;
    }
  }

  private send(): void {
    this.sending = undefined;
    const out = this.outbox;
    this.outbox = [];
    for (const m of out) {
      try {
        this.nc.publish(m.subject, m.data, { headers: m.headers });
      } catch (err) {
        this.logger.warn("a reply could not be sent to another node", { subject: m.subject, err: String(err) });
      }
    }
  }
}
