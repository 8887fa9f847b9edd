import { RiffError } from "@riff/core";

/** A function's reply, or why there is none. */
export type ReplyOutcome = { headers: Record<string, string[]>; payload: Uint8Array } | RiffError;

interface Waiter {
  resolve(outcome: ReplyOutcome): void;
  timer: NodeJS.Timeout;
}

/**
 * Pairs `/requests` callers with replies by correlation id. Replies live only in memory: the
 * caller's connection dies with the process anyway, while the request itself is in the log.
 */
export class ReplyHub {
  private readonly waiters = new Map<string, Waiter>();

  /** Registers a caller before its message is published, so a fast reply cannot be missed. */
  wait(correlationId: string, timeoutMs: number): { reply: Promise<ReplyOutcome>; cancel(): void } {
    let cancel = () => {};
    const reply = new Promise<ReplyOutcome>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(correlationId);
        resolve(
          new RiffError("RIFF_REPLY_TIMEOUT", `no reply within ${timeoutMs} ms`, {
            hint: "the message is kept and will still be processed; raise the wait with the X-Riff-Timeout header (e.g. 'X-Riff-Timeout: 2m') or check `riff logs`",
          }),
        );
      }, timeoutMs);
      this.waiters.set(correlationId, { resolve, timer });
      cancel = () => {
        clearTimeout(timer);
        this.waiters.delete(correlationId);
      };
    });
    return { reply, cancel };
  }

  /**
   * Hands a reply to its caller; a reply nobody waits for (timed out, answered already, or
   * redelivered) is dropped. Returns whether a caller took it.
   */
  deliver(correlationId: string, outcome: ReplyOutcome): boolean {
    const waiter = this.waiters.get(correlationId);
    if (waiter === undefined) return false;
    this.waiters.delete(correlationId);
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
    return true;
  }

  /** Callers waiting now. */
  get size(): number {
    return this.waiters.size;
  }

  /** Answers every waiter with `err` (on shutdown). */
  rejectAll(err: RiffError): void {
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(err);
      this.waiters.delete(id);
    }
  }
}
