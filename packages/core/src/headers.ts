/**
 * Message headers: multi-valued, with case-insensitive names. They are stored as a plain record
 * with lower-cased keys so they serialise as JSON and cross the wire without a class.
 */
export type Headers = Record<string, string[]>;

/** Well-known header names, lower-cased. */
export const HeaderNames = {
  contentType: "content-type",
  accept: "accept",
  correlationId: "riff-correlation-id",
  /** In a cluster: the node whose gateway holds the `/requests` caller, where the reply goes. */
  replyNode: "riff-reply-node",
  error: "riff-error",
  timestamp: "riff-timestamp",
  /** How many functions a message has passed through; `x-` so it survives a trip through HTTP. */
  hops: "x-riff-hops",
  /** `end`: a `/requests` caller wants the reply of the last function of a pipeline. */
  replyFrom: "x-riff-reply-from",
  traceparent: "traceparent",
} as const;

/**
 * The hop count a message carries, never below 0: a negative, fractional or garbled count (from
 * a caller that got past the gateway's check, or an old message) counts as 0 rather than buying
 * the message more hops than the limit allows.
 */
export function hopsOf(headers: Headers): number {
  const n = Number(headers[HeaderNames.hops]?.[0]);
  // NaN and anything not above 0 count as 0; +Infinity stays over every limit.
  return n > 0 ? Math.floor(n) : 0;
}

/** A hop count as a caller may send it: digits only, so at most 0 to 999999999. */
export const HOPS_PATTERN = /^[0-9]{1,9}$/;

/** @default 16: a message that has passed through this many functions is taken for a loop. */
export const DEFAULT_MAX_HOPS = 16;
/**
 * The dead-letter topic of what belongs to no function; each function has its own (see
 * `deadLetterTopicOf`). It always exists and cannot be deleted.
 */
export const DEAD_LETTER_TOPIC = "riff-dead-letters";
/** Where riff keeps its invocation records and trace spans (`riff invocations`, `riff trace`); only riff writes it. */
export const RECORDS_TOPIC = "riff-invocations";

/** Whether `topic` is one of riff's own (its names start `riff-`): lists leave them out unless asked. */
export function isRiffTopic(topic: string): boolean {
  return topic.startsWith("riff-");
}

