// Dead letters: what riff adds to a message it gives up on, and how the admin API shows them
// to `riff dead-letters`.

/**
 * Headers riff adds to a dead letter, which otherwise keeps the message's payload, headers and
 * key. Times are ISO 8601. Documented in docs/resources.md ("Dead letters").
 */
export const DeadLetterHeaders = {
  /** Why, in words: e.g. `failed in the function: RIFF_FUNCTION_ERROR: boom`. */
  reason: "riff-dead-letter-reason",
  function: "riff-dead-letter-function",
  /** `topic/partition@offset` of the message that failed. */
  source: "riff-dead-letter-source",
  code: "riff-dead-letter-code",
  /** The error's class in the function's language (`NonRetriableError`, `TypeError`), if known. */
  errorName: "riff-dead-letter-error-name",
  /** The last lines of the function's stack trace (or of a command's stderr). */
  stack: "riff-dead-letter-stack",
  /** How many times the function ran the message. */
  attempts: "riff-dead-letter-attempts",
  topic: "riff-dead-letter-topic",
  partition: "riff-dead-letter-partition",
  offset: "riff-dead-letter-offset",
  firstFailure: "riff-dead-letter-first-failure",
  lastFailure: "riff-dead-letter-last-failure",
  /** The code again, as the CloudEvents extension `rifferrorcode` (binary mode's header). */
  cloudEventCode: "ce-rifferrorcode",
} as const;

/** Whether `name` is one of the headers riff adds to a dead letter (a redrive takes them off). */
export function isDeadLetterHeader(name: string): boolean {
  return name.startsWith("riff-dead-letter-") || name === DeadLetterHeaders.cloudEventCode;
}

/** One dead letter as `riff dead-letters list` shows it (the admin API's rows). */
export interface DeadLetterRow {
  partition: number;
  offset: number;
  /** When it was dead-lettered, ms since the epoch. */
  timestamp: number;
  key: string | null;
  code: string;
  attempts: number;
  /** `topic/partition@offset` it came from. */
  source: string;
  reason: string;
}

/** What `riff dead-letters redrive` did. */
export interface RedriveResult {
  redriven: number;
  /** Published, per topic. */
  to: Record<string, number>;
  /** Letters of the function kept back, each behind another function's letter in a shared topic. */
  left: number;
}
