/**
 * Runs work one at a time per key, in the order asked; different keys run side by side. The
 * controller keys changes by function name: two updates, or an update and a delete, would
 * otherwise interleave (a delete during an update's start would be undone by its save).
 *
 * `request(key, work)` is the reconciler's way in: a key already waiting to run is not queued
 * twice (work for a key is level-triggered, so one more run sees every change that came
 * before it), as controller-runtime's work queue drops duplicate keys.
 */
export class WorkQueue {
  private readonly busy = new Map<string, Promise<unknown>>();
  /** Keys with a `request` queued and not yet started. */
  private readonly pending = new Map<string, Promise<void>>();

  /** Runs `work` after everything queued for `key` before it. */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    // A failure of the work before does not stop this one; its caller has that error.
    const next = (this.busy.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.busy.set(key, next);
    const forget = () => {
      if (this.busy.get(key) === next) this.busy.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /**
   * Queues `work` for `key` unless a run of it is already waiting to start; resolves when the
   * queued run (this one or the one already waiting) has finished. Never rejects: the work
   * reports its own failures.
   */
  request(key: string, work: () => Promise<void>): Promise<void> {
    const waiting = this.pending.get(key);
    if (waiting !== undefined) return waiting;
    const run = this.run(key, () => {
      this.pending.delete(key);
      return work();
    }).catch(() => undefined);
    this.pending.set(key, run);
    return run;
  }

  /** Resolves once nothing runs or waits. */
  async idle(): Promise<void> {
    while (this.busy.size > 0) await Promise.allSettled([...this.busy.values()]);
  }
}
