/** One bucket: tokens left, as of `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by id: `rate` tokens a second, as many at once (at least one), so a quiet
 * caller may send a second's worth in a burst. Kept in this process's memory only.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  /** Takes a token from `id`'s bucket; when there is none, the whole seconds to wait (for Retry-After). */
  take(id: string, rate: number, now: number): number | undefined {
    const burst = Math.max(1, rate);
    let b = this.buckets.get(id);
    // Asked on every request of a limited topic (and for every trace): a new entry only for a new id.
    if (b === undefined) this.buckets.set(id, (b = { tokens: burst, at: now }));
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
    b.at = now;
    if (b.tokens < 1) return Math.max(1, Math.ceil((1 - b.tokens) / rate));
    b.tokens -= 1;
    return undefined;
  }

  /** Forgets `id`'s bucket (its rate changed or went). */
  forget(id: string): void {
    this.buckets.delete(id);
  }
}
