import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { DEAD_LETTER_TOPIC, HeaderNames, RECORDS_TOPIC, HOPS_PATTERN, isValidName, parseDuration, isSampledFlags, RiffError, toMicros, traceparentOf, type Logger, silentLogger, type TelemetrySink } from "@riff/core";
import type { Broker, Position, PublishMessage } from "@riff/broker";
import { CE_HEADER_PREFIX, eventFormatOf } from "@riff/protocol";
import { readBody, sendError, sendJson } from "./http-util.js";
import { IDEMPOTENCY_HEADER, IdempotencyCache, idempotencyKey, idempotentId } from "./idempotency.js";
import type { ReplyHub } from "./reply-hub.js";
import { startSpan, stampTrace, type SpanContext } from "./request-span.js";
import { eventMessages, partitionKeyOf, plainMessage, TIMEOUT_HEADER, unsupportedFormat } from "./request-messages.js";

/** @default 1 MiB: the largest body `/messages` and `/requests` take. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** @default 60000 ms: how long `/requests` waits for the reply. */
export const DEFAULT_REPLY_TIMEOUT_MS = 60_000;
export { TIMEOUT_HEADER };
/** The longest wait a Node timer can hold (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;
/** The request header whose value is the message key: one key, one partition, one order. */
export const KEY_HEADER = "x-riff-key";

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  broker: Broker;
  replies: ReplyHub;
  logger?: Logger;
  /** @default DEFAULT_MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** @default DEFAULT_REPLY_TIMEOUT_MS */
  replyTimeoutMs?: number;
  /** Whether a function reads `topic`; without it, `/requests` does not check. */
  hasReaders?: (topic: string) => boolean;
  /** In a cluster, this node's name: `/requests` messages carry it so the reply finds its way back, and request spans name it. */
  replyNode?: string;
  /** How long an Idempotency-Key is remembered. @default DEFAULT_IDEMPOTENCY_WINDOW_MS */
  idempotencyWindowMs?: number;
  /**
   * Whether `req` may publish to `topic` (API keys, rates): throws the RiffError to answer with;
   * a `retryAfterS` in its details becomes the Retry-After header. Undefined: anyone may.
   */
  authorize?: (req: IncomingMessage, topic: string) => void;
  /** Where each request is told as the root span of its trace (metrics, records); undefined: nowhere. */
  telemetry?: TelemetrySink;
  /** Whether a new trace is sampled (its spans recorded); undefined: every one. */
  sample?: () => boolean;
}

/** A `/requests` reply as it is sent, and replayed for a repeated Idempotency-Key. */
interface InvokeAnswer {
  payload: Uint8Array;
  /**
   * The response headers as a flat name, value list: the reply's Content-Type and its
   * CloudEvents attributes in binary mode (`ce-*`). A list, because Node writes it several
   * times faster than an object of the same headers.
   */
  headers: string[];
}

/** Handles one HTTP request; returns false when the path is not the gateway's. */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const MESSAGES = "/messages/";
const REQUESTS = "/requests/";

/**
 * The HTTP gateway: `POST /messages/<topic>` publishes and answers 202 with the position once the
 * message is durable; `POST /requests/<topic>` publishes with a correlation id and answers with
 * the function's reply.
 */
export function createGateway(options: GatewayOptions): GatewayHandler {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const defaultTimeout = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  const logger = options.logger ?? silentLogger;
  const { broker, replies } = options;
  const published = new IdempotencyCache<Position | Position[]>(options.idempotencyWindowMs);
  const answered = new IdempotencyCache<InvokeAnswer>(options.idempotencyWindowMs);

  return (req, res) => {
    const url = req.url ?? "/";
    const reply = url.startsWith(REQUESTS);
    if (!reply && !url.startsWith(MESSAGES)) return false;
    const rest = url.slice(reply ? REQUESTS.length : MESSAGES.length);
    const q = rest.indexOf("?");
    const span = startSpan(req, options.sample);
    handle(reply, q === -1 ? rest : rest.slice(0, q), req, res, span).then(
      () => endSpan(span, reply, res),
      (err: unknown) => {
        if (!(err instanceof RiffError) || err.kind === "system") logger.error("gateway request failed", { err: String(err), stack: (err as Error).stack });
        sendError(res, err);
        endSpan(span, reply, res);
      },
    );
    return true;
  };

  /** Tells the request as the root span of its trace (or the next span of the caller's). */
  function endSpan(span: SpanContext, reply: boolean, res: ServerResponse): void {
    const { telemetry } = options;
    if (telemetry === undefined) return;
    telemetry.request({
      kind: "request",
      id: span.spanId,
      traceId: span.traceId,
      parentId: span.parentId,
      startedAt: span.startedAt,
      durationMs: toMicros(performance.now() - span.clock),
      node: options.replyNode,
      path: reply ? "requests" : "messages",
      topic: span.topic,
      code: res.statusCode,
      ...(isSampledFlags(span.flags) ? {} : { sampled: false as const }),
    });
  }

  async function handle(reply: boolean, rawTopic: string, req: IncomingMessage, res: ServerResponse, span: SpanContext): Promise<void> {
    const topic = decodeTopic(rawTopic);
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new RiffError("RIFF_METHOD_NOT_ALLOWED", `${req.method ?? "?"} is not allowed here; use POST`, {
        // text/plain, as riff publish sends: curl's --data alone would send a form, which the
        // function then gets as one. The Host the client used makes the line work as printed.
        hint: `curl -H 'Content-Type: text/plain' --data-binary 10 http://${hostForHint(req)}${reply ? REQUESTS : MESSAGES}${encodeURIComponent(topic)}`,
      });
    }
    try {
      options.authorize?.(req, topic);
    } catch (err) {
      req.resume();
      const retry = err instanceof RiffError ? err.details?.["retryAfterS"] : undefined;
      if (typeof retry === "number") res.setHeader("retry-after", String(retry));
      throw err;
    }
    checkHops(req);
    if (!isValidName(topic)) {
      req.resume();
      const path = reply ? REQUESTS : MESSAGES;
      throw new RiffError("RIFF_INVALID_NAME", topic === "" ? `the path names no topic: POST ${path}TOPIC` : `topic '${topic.slice(0, 80)}' in the path is not a valid name`, {
        hint: `topic names are at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit: POST ${path}numbers`,
        details: { field: "path" },
      });
    }
    if (topic === RECORDS_TOPIC) {
      req.resume();
      throw new RiffError("RIFF_TOPIC_PROTECTED", `topic '${topic}' is riff's own: it holds riff's invocation records`, {
        hint: "read them with `riff invocations NAME` or `riff trace ID`",
      });
    }
    if (topic === DEAD_LETTER_TOPIC) {
      // riff writes there, with the reason; a message posted by hand would look like one of its.
      req.resume();
      throw new RiffError("RIFF_INVALID_ARGUMENT", `topic '${topic}' is riff's own: only riff writes dead letters`, {
        hint: `to run a dead letter again, publish its payload to the function's input topic (see them with \`riff topics tail ${topic}\`)`,
      });
    }
    if ((await broker.getTopic(topic)) === undefined) {
      req.resume();
      throw new RiffError("RIFF_TOPIC_NOT_FOUND", `topic '${topic}' does not exist`, {
        hint: `create it with \`riff topics create ${topic}\`, or deploy a function that reads it`,
      });
    }
    // Only a topic that exists is a label (metrics, spans): a caller cannot make up series.
    span.topic = topic;
    if (reply && options.hasReaders?.(topic) === false) {
      // Nothing could answer: say so now rather than after the timeout, and store nothing.
      req.resume();
      throw new RiffError("RIFF_NO_READER", `no function reads topic '${topic}', so no reply can come`, {
        hint: `deploy one with \`riff create ... --input ${topic}\`, or publish without waiting for a reply (\`riff publish\` without --reply, or POST /messages/${topic})`,
      });
    }
    const timeoutMs = reply ? replyTimeout(req) : 0;
    let idem: string | undefined;
    try {
      idem = idempotencyKey(headerValue(req, IDEMPOTENCY_HEADER));
    } catch (err) {
      req.resume();
      throw err;
    }
    // Plain HTTP and binary mode parse nothing beyond this test (and get a few headers);
    // structured and batched events are parsed into binary form, one message each.
    const format = eventFormatOf(req.headers["content-type"]);
    const refused = format === undefined ? undefined : unsupportedFormat(format, reply);
    if (refused !== undefined) {
      req.resume();
      throw refused;
    }
    // The caller can find the trace (`riff trace ID`): W3C Trace Context's response header.
    res.setHeader("traceresponse", traceparentOf(span.traceId, span.spanId, span.flags));
    const payload = await readBody(req, maxBody);
    // With an Idempotency-Key, a message goes under an id of it: a broker that deduplicates
    // (NATS) stores a repeat sent to any node once.
    const stored = idem !== undefined && !reply ? idem : undefined;
    const messages = format === undefined ? [plainMessage(req, payload)] : eventMessages(req, format, payload);
    stampTrace(span, messages);
    // The key: the caller's, else the event's partitionkey, else the Idempotency-Key's partition.
    const given = headerValue(req, KEY_HEADER);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as PublishMessage;
      const key = given ?? partitionKeyOf(m.headers) ?? stored;
      if (key !== undefined) m.key = key;
      if (stored !== undefined) m.id = idempotentId(topic, format === "batch" ? `${stored}\u0000${i}` : stored);
    }
    if (!reply) {
      const publish = format === "batch" ? () => publishAll(topic, messages) : () => broker.publish(topic, messages[0] as PublishMessage);
      const { value, replayed } = idem === undefined ? { value: await publish(), replayed: false } : await published.run(`m/${topic}`, idem, payload, publish);
      if (replayed) res.setHeader("idempotent-replayed", "true");
      sendJson(res, 202, value);
      return;
    }
    // With a key, a caller that goes away does not cancel the wait: its retry gets the answer.
    const request = () => requestReply(topic, messages[0] as PublishMessage, timeoutMs, idem === undefined ? res : undefined);
    const { value: outcome, replayed } = idem === undefined ? { value: await request(), replayed: false } : await answered.run(`r/${topic}`, idem, payload, request);
    if (replayed) res.setHeader("idempotent-replayed", "true");
    res.writeHead(200, [...outcome.headers, "content-length", String(outcome.payload.byteLength)]);
    res.end(outcome.payload);
  }

  /** Publishes a `/requests` message and waits for its reply. */
  async function requestReply(topic: string, message: PublishMessage, timeoutMs: number, caller: ServerResponse | undefined): Promise<InvokeAnswer> {
    const headers = (message.headers ??= {});
    const correlationId = randomUUID();
    headers[HeaderNames.correlationId] = [correlationId];
    if (options.replyNode !== undefined) headers[HeaderNames.replyNode] = [options.replyNode];
    const waiter = replies.wait(correlationId, timeoutMs);
    caller?.on("close", waiter.cancel);
    try {
      await broker.publish(topic, message);
    } catch (err) {
      waiter.cancel();
      throw err;
    }
    const outcome = await waiter.reply;
    if (outcome instanceof RiffError) throw outcome;
    const answer = ["content-type", outcome.headers["content-type"]?.[0] ?? "application/octet-stream"];
    for (const name in outcome.headers) {
      const value = outcome.headers[name]?.[0];
      if (value !== undefined && name.startsWith(CE_HEADER_PREFIX)) answer.push(name, value);
    }
    return { payload: outcome.payload, headers: answer };
  }

  /** A batch's messages in order, each stored before the next is sent; the answer lists where. */
  async function publishAll(topic: string, messages: PublishMessage[]): Promise<Position[]> {
    const positions: Position[] = [];
    for (const m of messages) positions.push(await broker.publish(topic, m));
    return positions;
  }

  function replyTimeout(req: IncomingMessage): number {
    const value = headerValue(req, TIMEOUT_HEADER);
    if (value === undefined) return defaultTimeout;
    const ms = parseDuration(value, "X-Riff-Timeout header");
    // A timer holds at most 2^31-1 ms; a longer one would fire at once.
    if (!(ms >= 1 && ms <= MAX_TIMER_MS)) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `X-Riff-Timeout header: ${value} is not from 1ms to 24d`, {
        hint: "wait at most 24 days for a reply (e.g. X-Riff-Timeout: 5m); for longer work, publish to /messages and read the output topic",
      });
    }
    return ms;
  }
}

/**
 * A caller may pass on the hop count of the message it answers (a function that publishes
 * through the gateway), but never lower it: a negative or garbled count would buy a loop
 * more hops than the limit allows.
 */
function checkHops(req: IncomingMessage): void {
  const value = req.headers[HeaderNames.hops];
  if (value === undefined) return;
  // Node joins a repeated x- header with ", ", which the pattern refuses too.
  const text = Array.isArray(value) ? value.join(", ") : value;
  if (HOPS_PATTERN.test(text)) return;
  req.resume();
  throw new RiffError("RIFF_INVALID_HEADER", `X-Riff-Hops header: '${text.slice(0, 40)}' is not a whole number of 0 or more`, {
    hint: "send X-Riff-Hops only to pass on the count of the message a function answers (digits only, e.g. X-Riff-Hops: 3), or leave it out",
    details: { header: "X-Riff-Hops" },
  });
}

/** The topic from the path; a malformed escape is the caller's mistake, not a crash. */
function decodeTopic(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `'${raw}' is not a valid topic in a URL`, {
      hint: "topic names are lower-case letters, digits and '-': POST /messages/numbers",
    });
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The client's Host header when it is a plain host[:port] (safe to print in a shell line), else HOST:PORT. */
function hostForHint(req: IncomingMessage): string {
  const host = req.headers.host ?? "";
  return /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host) ? host : "HOST:PORT";
}
