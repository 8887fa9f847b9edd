/**
 * Runs work one at a time per key, in the order asked; different keys run side by side. The
 * daemon keys changes by function name: two updates, or an update and a delete, would
 * otherwise interleave (a delete during an update's start would be undone by its save).
 */
export class KeyedQueue {
  private readonly busy = new Map<string, Promise<unknown>>();

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
}
