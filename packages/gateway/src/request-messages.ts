import type { IncomingMessage } from "node:http";
import { RiffError, type Headers } from "@riff/core";
import type { PublishMessage } from "@riff/broker";
import {
  binaryEventHeaders,
  CE_BATCH_TYPE,
  CE_HEADER_PREFIX,
  CE_STRUCTURED_TYPE,
  CeHeaders,
  decodeHeaderValue,
  parseEventBatch,
  parseStructuredEvent,
  type EventFormat,
} from "@riff/protocol";

/** The request header that sets the reply timeout per request; it stays at the edge. */
export const TIMEOUT_HEADER = "x-riff-timeout";

/**
 * The message of a plain or binary-mode request: the body as it came, with its Content-Type.
 * A binary-mode event's `ce-*` headers are checked and kept. A plain request is stored as it
 * came; the runtime gives it riff's attributes when it hands it to a function (see
 * `addPlainMessageAttributes`), which keeps this path as cheap as it was.
 */
export function plainMessage(req: IncomingMessage, payload: Uint8Array): PublishMessage {
  const ce: [string, string][] = [];
  const headers = messageHeaders(req, ce);
  headers["content-type"] = [req.headers["content-type"] ?? "text/plain"];
  if (ce.length > 0) {
    // The request's own traceparent (already taken) is the one its trace continues.
    const attributes = binaryEventHeaders(ce);
    for (const [name, value] of Object.entries(attributes)) headers[name] ??= value;
  }
  return { headers, payload };
}

/**
 * The messages of a structured or batched request, one per event, each in binary form. The
 * request's own `ce-*` headers are ignored: the body is the event.
 */
export function eventMessages(req: IncomingMessage, format: EventFormat, payload: Uint8Array): PublishMessage[] {
  const events = format === "structured" ? [parseStructuredEvent(payload)] : parseEventBatch(payload);
  const base = messageHeaders(req, undefined);
  return events.map((event) => {
    // The event's trace context is its own; the request's covers the events that have none.
    const headers: Headers = { ...base, ...event.headers };
    if (event.contentType !== undefined) headers["content-type"] = [event.contentType];
      return { headers, payload: event.data };
  });
}

/** A 415 for a Content-Type that names a CloudEvents format riff does not read (or a batch that waits for a reply). */
export function unsupportedFormat(format: EventFormat, reply: boolean): RiffError | undefined {
  if (format === "unsupported") {
    return new RiffError("RIFF_CONTENT_TYPE_UNSUPPORTED", "riff reads CloudEvents in the JSON format only", {
      hint: `send Content-Type ${CE_STRUCTURED_TYPE} (one event) or ${CE_BATCH_TYPE} (a batch), or binary mode (ce-* headers)`,
    });
  }
  if (format === "batch" && reply) {
    return new RiffError("RIFF_CONTENT_TYPE_UNSUPPORTED", "a batch of CloudEvents cannot wait for one reply", {
      hint: "post the batch to /messages/<topic>, or send one event per /requests call",
    });
  }
  return undefined;
}

/** The key a message's `partitionkey` extension names, if any. */
export function partitionKeyOf(headers: Headers | undefined): string | undefined {
  const value = headers?.[CeHeaders.partitionkey]?.[0];
  // Checked on the way in: it decodes.
  return value === undefined ? undefined : decodeHeaderValue("partitionkey", value);
}

/**
 * Accept travels with the message, as do `traceparent`, `tracestate` and the caller's `x-*` headers (the gateway then gives `traceparent` its own span, see `stampTrace`);
 * everything else (cookies, authorization) stays at the edge. With `ce`, the `ce-*` headers
 * are collected there for the caller to check.
 */
function messageHeaders(req: IncomingMessage, ce: [string, string][] | undefined): Headers {
  const headers: Headers = {};
  const accept = req.headers["accept"];
  if (accept !== undefined && accept !== "*/*") headers["accept"] = [accept];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if ((name.startsWith("x-") && name !== TIMEOUT_HEADER) || name === "traceparent" || name === "tracestate") {
      (headers[name] ??= []).push(raw[i + 1] as string);
    } else if (ce !== undefined && name.startsWith(CE_HEADER_PREFIX)) {
      ce.push([name, raw[i + 1] as string]);
    }
  }
  return headers;
}
