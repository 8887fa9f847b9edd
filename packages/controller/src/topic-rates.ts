import { RiffError, type Logger } from "@riff/core";
import { followStore } from "./follow.js";
import type { ResourceStore } from "./stores.js";
import { TokenBuckets } from "@riff/core";

/** A topic's rate as stored (`spec.rate` of a Topic, `riff topics create --rate`): publishes per second through the gateway, all callers together. */
export interface TopicRate {
  rate: number;
}

export type TopicRateStore = ResourceStore<TopicRate>;

/**
 * The topics' rates, followed from their store (so a rate set through any node of a cluster
 * holds on every node), and the gateway's check of them. Each node keeps its own buckets: in a
 * cluster every node lets through the whole rate, not a share of it.
 */
export class TopicRates {
  private readonly rates = new Map<string, number>();
  private readonly buckets = new TokenBuckets();

  constructor(
    private readonly store: TopicRateStore,
    private readonly logger: Logger,
  ) {}

  /** Follows the store until `signal` aborts. */
  start(signal: AbortSignal): void {
    void followStore(this.store, signal, (event) => {
      if (event.type === "put") this.remember(event.name, event.value.rate);
      else if (event.type === "delete") this.remember(event.name, undefined);
    }, this.logger, "topic rates");
  }

  /** The rate of `topic`, or undefined: unlimited. */
  rateOf(topic: string): number | undefined {
    return this.rates.get(topic);
  }

  /**
   * Sets (a number), removes (null) or leaves (undefined) the rate of `topic`, in the store and
   * at once on this node; resolves with whether it changed.
   */
  async set(topic: string, rate: number | null | undefined): Promise<boolean> {
    if (rate === undefined) return false;
    const stored = await this.store.get(topic);
    if ((stored?.value.rate ?? null) === rate) return false;
    if (rate === null) await this.store.delete(topic);
    else await this.store.put(topic, { rate }, stored?.revision ?? 0);
    this.remember(topic, rate ?? undefined);
    return true;
  }

  /**
   * Takes one publish to `topic` from its rate; throws RIFF_RATE_LIMITED (with `retryAfterS`, for
   * the Retry-After header) past it. A topic without a rate costs one Map lookup.
   */
  check(topic: string, now = Date.now()): void {
    const rate = this.rates.get(topic);
    if (rate === undefined) return;
    const retryAfterS = this.buckets.take(topic, rate, now);
    if (retryAfterS === undefined) return;
    throw new RiffError("RIFF_RATE_LIMITED", `topic '${topic}' is over its rate of ${rate}/s (all callers together)`, {
      hint: `try again in ${retryAfterS} s (Retry-After); the topic's rate is set with \`riff topics create ${topic} --rate N\``,
      details: { retryAfterS, topic, rate },
    });
  }

  private remember(topic: string, rate: number | undefined): void {
    if (this.rates.get(topic) === rate) return;
    if (rate === undefined) this.rates.delete(topic);
    else this.rates.set(topic, rate);
    this.buckets.forget(topic);
  }
}
