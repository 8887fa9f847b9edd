import { DeadLetterHeaders as H, type Headers } from "@riff/core";
import type { PublishMessage, StoredMessage } from "@riff/broker";

/** Longest reason a dead letter carries in its header. */
const MAX_REASON_CHARS = 2048;
/** A stack can run to hundreds of lines (deep async chains); the header keeps its tail, where a Python traceback names the line that raised. */
const MAX_STACK_LINES = 20;
const MAX_STACK_CHARS = 4096;

/** Why a message is dead-lettered and how often it failed. */
export interface DeadLetterCause {
  /** A riff error code, e.g. `RIFF_FUNCTION_ERROR`, `RIFF_HOP_LIMIT`. */
  code: string;
  reason: string;
  /** The error's class in the function's language, when the function threw. */
  errorName?: string | undefined;
  stack?: string | undefined;
  /** Runs of the message, failed ones included. */
  attempts: number;
  firstFailureAt: number;
  lastFailureAt: number;
}

/**
 * The dead letter of `message`: its payload, headers and key as they were, plus riff's
 * {@link H dead-letter headers}. An error's message may be as long as the payload it quoted;
 * the headers stay small, so a dead letter always fits its topic's size limit.
 */
export function deadLetterOf(message: StoredMessage, fn: string, cause: DeadLetterCause): PublishMessage {
  const headers: Headers = {
    ...message.headers,
    [H.reason]: [clip(cause.reason, MAX_REASON_CHARS)],
    [H.function]: [fn],
    [H.source]: [`${message.topic}/${message.partition}@${message.offset}`],
    [H.code]: [cause.code],
    [H.cloudEventCode]: [cause.code],
    [H.attempts]: [String(cause.attempts)],
    [H.topic]: [message.topic],
    [H.partition]: [String(message.partition)],
    [H.offset]: [String(message.offset)],
    [H.firstFailure]: [new Date(cause.firstFailureAt).toISOString()],
    [H.lastFailure]: [new Date(cause.lastFailureAt).toISOString()],
  };
  if (cause.errorName !== undefined) headers[H.errorName] = [cause.errorName];
  if (cause.stack !== undefined && cause.stack !== "") headers[H.stack] = [stackTail(cause.stack)];
  return message.key === undefined ? { headers, payload: message.payload } : { headers, payload: message.payload, key: message.key };
}

/** The cause of a dead letter riff decided on (a loop, a replica that keeps dying), not the function. */
export function riffCause(code: "RIFF_HOP_LIMIT" | "RIFF_REPLICA_LOST", reason: string, attempts: number): DeadLetterCause {
  const now = Date.now();
  return { code, reason, attempts, firstFailureAt: now, lastFailureAt: now };
}

/** The last {@link MAX_STACK_LINES} lines of a stack, at most {@link MAX_STACK_CHARS}. */
export function stackTail(stack: string): string {
  const lines = stack.trimEnd().split("\n");
  const tail = lines.length > MAX_STACK_LINES ? ["…", ...lines.slice(-MAX_STACK_LINES)].join("\n") : lines.join("\n");
  return tail.length > MAX_STACK_CHARS ? `…${tail.slice(-MAX_STACK_CHARS)}` : tail;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
