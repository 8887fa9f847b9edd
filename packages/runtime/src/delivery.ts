import { HeaderNames, hopsOf, isSampledFlags, newSpanId, newTraceId, parseTraceparent, traceparentOf, type Headers } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import { addPlainMessageAttributes } from "@riff/protocol";
import { partitionKey } from "./partition-dispatcher.js";

/** The frame header that asks a replica to run messages with the same value one at a time, in order. */
export const SERIAL_KEY_HEADER = "riff-serial-key";
/** The frame header carrying the message's broker timestamp (ms since the epoch). */
export const TIMESTAMP_HEADER = "riff-timestamp";
/** In a cluster, frame headers saying where a message came from and under which lease generation. */
export const PARTITION_HEADER = "riff-partition";
export const OFFSET_HEADER = "riff-offset";
export const GENERATION_HEADER = "riff-generation";

/**
 * What came of one delivery. `done`: handled (its result or failure written), to commit;
 * `retry`: its replica died under it, to deliver again; `backoff`: the function failed on it,
 * to run again after a backoff; `abandon`: riff is stopping or the partition moved, left
 * uncommitted for whoever handles it next.
 */
export type Outcome = "done" | "retry" | "backoff" | "abandon";

/** One delivery of a message: where it sits, its hop count, and its headers. */
export interface Delivery {
  /** `topic/partition`: the unit of order. */
  key: string;
  /** `topic/partition@offset`, for logs and attempt counts. */
  id: string;
  hops: number;
  /** What travels on with the results: the message's headers, one more hop. */
  carried: Headers;
  /** What the replica gets: `carried` plus riff's frame-only headers. */
  headers: Headers;
  /** This delivery's span: its id, its trace, and the span it follows (the gateway's or the previous function's). */
  span: { id: string; traceId: string; parentId: string | undefined; sampled: boolean };
}

/**
 * The headers of a delivery. Each delivery is one more hop; the function sees the count and
 * passes it on, even through the gateway, so a loop the topic graph cannot show is caught.
 */
export function describeDelivery(message: StoredMessage, o: { ordered: boolean; replyFromEnd: boolean }): Delivery {
  const key = partitionKey(message);
  const hops = hopsOf(message.headers) + 1;
  // Each delivery is a span of the message's trace: the function sees it as its own context,
  // and its results carry it on as the parent of the next function's.
  const parent = parseTraceparent(message.headers["traceparent"]?.[0]);
  const span = { id: newSpanId(), traceId: parent?.traceId ?? newTraceId(), parentId: parent?.parentId, sampled: parent === undefined || isSampledFlags(parent.flags) };
  // Copied with plain loops: an object spread with a computed key (`[HeaderNames.hops]`) took
  // about 4 µs a delivery, a tenth of that as loops (docs/performance.md).
  const carried = copyHeaders(message.headers);
  carried[HeaderNames.hops] = [String(hops)];
  carried["traceparent"] = [traceparentOf(span.traceId, span.id, parent?.flags)];
  if (o.replyFromEnd) carried[HeaderNames.replyFrom] = ["end"];
  const headers = copyHeaders(carried);
  headers[TIMESTAMP_HEADER] = [String(message.timestamp)];
  const id = `${key}@${message.offset}`;
  // Only the function's copy: what travels on gets a new event id and source at this hop anyway.
  addPlainMessageAttributes(headers, message.topic, id);
  if (o.ordered) headers[SERIAL_KEY_HEADER] = [key];
  const { lease } = message;
  if (lease !== undefined) {
    // Where it came from and under which claim: a function may record them (riff's tests do).
    headers[PARTITION_HEADER] = [key];
    headers[OFFSET_HEADER] = [String(message.offset)];
    headers[GENERATION_HEADER] = [String(lease.generation)];
  }
  return { key, id, hops, carried, headers, span };
}

/**
 * A shallow copy of `headers`' own entries, as a spread makes it (the value arrays are shared:
 * nobody changes them in place). A header named `__proto__` (a function may send one) is
 * defined, not assigned, so that it stays a header and never becomes the copy's prototype.
 */
function copyHeaders(headers: Headers): Headers {
  const out: Headers = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name] as string[];
    if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}
