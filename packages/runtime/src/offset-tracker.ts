/**
 * Tracks messages of one partition that were dispatched in offset order but may finish out of
 * order, and tells when the committed offset may advance: only past a contiguous run of finished
 * messages, so a crash never skips one that was still in flight.
 */
export class OffsetTracker {
  private readonly queue: number[] = [];
  private readonly done = new Set<number>();
  private head = 0;

  /** Records that `offset` was dispatched. Offsets must arrive in increasing order. */
  begin(offset: number): void {
    this.queue.push(offset);
  }

  /** Records that `offset` finished; returns the offset to commit up to, if it advanced. */
  complete(offset: number): number | undefined {
    this.done.add(offset);
    let advanced: number | undefined;
    while (this.head < this.queue.length) {
      const next = this.queue[this.head] as number;
      if (!this.done.has(next)) break;
      this.done.delete(next);
      advanced = next;
      this.head++;
    }
    // Compact now and then instead of shifting on every completion.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return advanced;
  }

  /** The oldest offset dispatched and not finished. */
  oldest(): number | undefined {
    for (let i = this.head; i < this.queue.length; i++) {
      const o = this.queue[i] as number;
      if (!this.done.has(o)) return o;
    }
    return undefined;
  }

  /** Messages dispatched and not yet finished. */
  get pending(): number {
    return this.queue.length - this.head;
  }
}
