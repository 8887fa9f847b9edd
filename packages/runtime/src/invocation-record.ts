import { HeaderNames, toMicros, type InvocationRecord, type InvocationStatus, type RiffError } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import type { Delivery } from "./delivery.js";

/** @default 64 KiB: the most of a failed invocation's input its record keeps. */
export const FAILED_PAYLOAD_CAP = 64 * 1024;

/** How one run of a message went, filled in as it goes; `status` stays undefined when it did not run (moved, riff stopping). */
export interface Ended {
  startedAt: number;
  /** `performance.now()` at the start, for a duration that wall-clock changes do not skew. */
  clock: number;
  /** Set when the message waited for its replica to start: how long that took. */
  initMs: number | undefined;
  status: InvocationStatus | undefined;
  durationMs?: number;
  error: RiffError | undefined;
}

/** Marks the run finished now, the moment the function answered (before its result is written). */
export function finish(ended: Ended, status: InvocationStatus, error?: RiffError): void {
  ended.status = status;
  ended.error = error;
  ended.durationMs = toMicros(performance.now() - ended.clock);
}

/** The record of one run of `message`: a span of its trace. */
export function invocationRecord(o: {
  fn: string;
  revision: number;
  node: string | undefined;
  replica: string;
  message: StoredMessage;
  delivery: Delivery;
  attempt: number;
  ended: Ended;
}): InvocationRecord {
  const { message, ended, delivery } = o;
  const record: InvocationRecord = {
    kind: "invocation",
    id: delivery.span.id,
    traceId: delivery.span.traceId,
    parentId: delivery.span.parentId,
    startedAt: ended.startedAt,
    durationMs: ended.durationMs ?? toMicros(performance.now() - ended.clock),
    node: o.node,
    function: o.fn,
    revision: o.revision,
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key,
    status: ended.status ?? "error",
    trigger: message.headers[HeaderNames.correlationId] === undefined ? "pubsub" : "http",
    attempt: o.attempt,
    cold: ended.initMs !== undefined,
    initMs: ended.initMs,
    queueWaitMs: Math.max(0, toMicros(ended.startedAt - message.timestamp)),
    replica: o.replica,
  };
  if (!delivery.span.sampled) record.sampled = false;
  if (ended.error !== undefined) {
    record.error = { code: ended.error.code, message: ended.error.message };
    // Kept so that a failure can be looked at, and run again, after the fact.
    const kept = message.payload.subarray(0, FAILED_PAYLOAD_CAP);
    record.payload = {
      base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString("base64"),
      contentType: message.headers["content-type"]?.[0] ?? "application/octet-stream",
      truncated: kept.byteLength < message.payload.byteLength,
    };
  }
  return record;
}
