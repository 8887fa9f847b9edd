import type { IncomingMessage } from "node:http";
import { newSpanId, newTraceId, parseTraceparent, preciseNow, traceparentOf } from "@riff/core";
import type { PublishMessage } from "@riff/broker";

/** The trace context of one gateway request: its span, and the trace it starts or continues. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  /** The caller's own span, when it sent a valid `traceparent` (a header, or a structured event's). */
  parentId: string | undefined;
  flags: string;
  startedAt: number;
  clock: number;
  /** The topic, once known to exist (empty before: the metrics' labels stay bounded). */
  topic: string;
}

/**
 * A caller's valid `traceparent` header is continued, sampled or not as the caller says;
 * otherwise a new trace starts here, sampled when `sample` says so (riff's --records-rate).
 */
export function startSpan(req: IncomingMessage, sample?: () => boolean): SpanContext {
  const header = req.headers.traceparent;
  const caller = parseTraceparent(Array.isArray(header) ? header[0] : header);
  return {
    traceId: caller?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    parentId: caller?.parentId,
    flags: caller?.flags ?? (sample === undefined || sample() ? "01" : "00"),
    startedAt: preciseNow(),
    clock: performance.now(),
    topic: "",
  };
}

/**
 * Gives each message the gateway's span as its parent, so the first function's span follows
 * it. A request without a `traceparent` header whose (first) event brings its own continues that
 * event's trace. An event of a batch whose trace is another one keeps its own context.
 */
export function stampTrace(span: SpanContext, messages: PublishMessage[]): void {
  const first = parseTraceparent(messages[0]?.headers?.["traceparent"]?.[0]);
  if (span.parentId === undefined && first !== undefined) {
    span.traceId = first.traceId;
    span.parentId = first.parentId;
    span.flags = first.flags;
  }
  const own = traceparentOf(span.traceId, span.spanId, span.flags);
  for (const m of messages) {
    const headers = (m.headers ??= {});
    const theirs = parseTraceparent(headers["traceparent"]?.[0]);
    if (theirs === undefined || theirs.traceId === span.traceId) headers["traceparent"] = [own];
  }
}
