import type { RiffError } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import type { DeadLetterCause } from "./dead-letter.js";
import type { MessageOutlets } from "./message-outlets.js";
import { backoffMs, FailureBook, isRetriable } from "./retries.js";

/** What {@link FailedMessages} needs from its runner. */
export interface FailedMessagesOptions {
  outlets: MessageOutlets;
  /** `spec.retries` now: `riff update` may change it while a message waits. */
  retries(): number;
  /** A line in the function's log. */
  log(line: string): void;
}

/**
 * What becomes of a message the function failed on: its `/requests` caller gets the error at
 * once; otherwise it runs again after a growing backoff, `retries` times, unless the function
 * threw a `NonRetriableError`; then it goes to the dead-letter topic with its failures.
 * Failure counts live in memory: a restart, or the partition moving to another node, starts
 * the message's count again.
 */
export class FailedMessages {
  private readonly book = new FailureBook();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly o: FailedMessagesOptions) {}

  /** Failed runs of message `id` so far (0 when none, or forgotten). */
  failures(id: string): number {
    return this.book.get(id)?.failures ?? 0;
  }

  /** Messages waiting out a backoff: not in flight, not committed. */
  get waiting(): number {
    return this.timers.size;
  }

  /**
   * Records a failure of message `id`: `done` once a caller got the error or the message is
   * dead-lettered (stored, so its offset may be committed), `backoff` to run it again later.
   */
  async fail(message: StoredMessage, id: string, err: RiffError): Promise<"done" | "backoff"> {
    const record = this.book.record(id);
    if (await this.o.outlets.answered(message, err)) {
      this.book.forget(id);
      return "done";
    }
    if (isRetriable(err) && record.failures <= this.o.retries()) return "backoff";
    const why = isRetriable(err) ? `failed ${record.failures} time(s)` : "it would fail the same way again (a NonRetriableError, or content riff cannot serve)";
    this.o.log(`${id}: ${why}`);
    const cause: DeadLetterCause = {
      code: err.code,
      reason: `failed in the function: ${err.code}: ${err.message}`,
      errorName: typeof err.details?.["name"] === "string" ? err.details["name"] : undefined,
      stack: typeof err.details?.["stack"] === "string" ? err.details["stack"] : undefined,
      attempts: record.failures,
      firstFailureAt: record.firstFailureAt,
      lastFailureAt: record.lastFailureAt,
    };
    const { outlets } = this.o;
    await outlets.written(message, () => outlets.deadLetter(message, cause));
    this.book.forget(id);
    return "done";
  }

  /** Calls `again` once the backoff of message `id` (which {@link fail} said to retry) is over, unless cancelled first. */
  later(id: string, again: () => void): void {
    const failures = this.book.get(id)?.failures ?? 1;
    const ms = backoffMs(failures);
    this.o.log(`${id} failed; it runs again in ${ms} ms (retry ${failures} of ${this.o.retries()})`);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      again();
    }, ms);
    // A backoff begun while riff stops must not hold the process up: the message stays uncommitted.
    timer.unref();
    this.timers.set(id, timer);
  }

  /** The message is settled another way (it succeeded on a retry, riff gave it up here). */
  forget(id: string): void {
    this.book.forget(id);
  }

  /** Forgets every waiting message (the partitions are left or riff stops); returns their ids. */
  cancel(): string[] {
    const ids = [...this.timers.keys()];
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.book.clear();
    return ids;
  }
}
