import { runWindows } from "./window-driver.js";
import {
  makeWindow,
  resolveWindowOptions,
  type Window,
  type WindowEngine,
  type WindowOf,
  type WindowOptions,
  type WindowSource,
} from "./window.js";

/** Options of {@link tumblingCountWindow}. */
export interface TumblingCountWindowOptions<T, K = never> extends WindowOptions<T, K> {
  /** Items per window. */
  size: number;
}

/** Options of {@link slidingCountWindow}. */
export interface SlidingCountWindowOptions<T, K = never> extends WindowOptions<T, K> {
  /** Items per window. */
  size: number;
  /** Items between the first items of two windows. */
  slide: number;
}

interface KeyCount<T> {
  /** The last `size` items and their times. */
  items: T[];
  times: number[];
  /** Items seen. */
  seen: number;
  /** Items up to this index (exclusive) are in an emitted window. */
  emittedThrough: number;
}

/**
 * Window j holds items [j * slide, j * slide + size) of its key and closes with its last item.
 * Only the last `size` items are kept, since no open window reaches further back.
 */
class CountEngine<T> implements WindowEngine<T> {
  private readonly keys = new Map<unknown, KeyCount<T>>();
  private ready: Window<T>[] = [];

  constructor(
    private readonly size: number,
    private readonly slide: number,
    private readonly keyed: boolean,
  ) {}

  add(item: T, time: number, key: unknown): boolean {
    let k = this.keys.get(key);
    if (k === undefined) {
      k = { items: [], times: [], seen: 0, emittedThrough: 0 };
      this.keys.set(key, k);
    }
    k.items.push(item);
    k.times.push(time);
    if (k.items.length > this.size) {
      k.items.shift();
      k.times.shift();
    }
    k.seen++;
    const firstIndex = k.seen - this.size;
    if (firstIndex >= 0 && firstIndex % this.slide === 0) {
      this.ready.push(this.window(k, this.size, key));
      k.emittedThrough = k.seen;
    }
    return true;
  }

  advance(): Window<T>[] {
    const ready = this.ready;
    this.ready = [];
    return ready;
  }

  /**
   * Emits, per key, the oldest unfilled window if it holds an item no emitted window held: every
   * item ends up in some window (when slide <= size) and the shorter tails of a sliding window,
   * which would only repeat it, are not emitted.
   */
  flush(): Window<T>[] {
    for (const [key, k] of this.keys) {
      const oldestOpen = k.seen < this.size ? 0 : Math.floor((k.seen - this.size) / this.slide) + 1;
      const from = oldestOpen * this.slide;
      if (from < k.seen && k.seen > k.emittedThrough) this.ready.push(this.window(k, k.seen - from, key));
    }
    this.keys.clear();
    return this.advance();
  }

  nextClose(): number {
    return Number.POSITIVE_INFINITY;
  }

  // The window of the last `count` items of a key.
  private window(k: KeyCount<T>, count: number, key: unknown): Window<T> {
    const items = k.items.slice(k.items.length - count);
    const times = k.times.slice(k.times.length - count);
    return makeWindow(times[0] ?? 0, times[times.length - 1] ?? 0, items, this.keyed, key);
  }
}

function countWindows<T, K>(
  source: WindowSource<T>,
  options: WindowOptions<T, K>,
  size: number,
  slide: number,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  for (const [name, n] of [["size", size], ["slide", slide]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${String(n)}`);
  }
  // An item without event time gets its arrival time: count windows need time only to report it.
  const o = resolveWindowOptions<T>(options, "arrival");
  const engine = new CountEngine<T>(size, slide, o.keyOf !== undefined);
  return runWindows(source, engine, o) as AsyncGenerator<WindowOf<T, K>, void, undefined>;
}

/**
 * Yields windows of `size` consecutive items (per key, with a `key` option), each as soon as its
 * last item arrives; when the input ends, the unfilled last window is yielded too. `start` and
 * `end` are the first and last item's times.
 *
 * @example
 * for await (const w of tumblingCountWindow(inputs, { size: 3 })) yield w.items;
 */
export function tumblingCountWindow<T, K = never>(
  source: WindowSource<T>,
  options: TumblingCountWindowOptions<T, K>,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  return countWindows(source, options, options.size, options.size);
}

/**
 * Yields windows of the last `size` items every `slide` items (size 3, slide 1: 1-3, 2-4, 3-5,
 * ...), each as soon as its last item arrives. When the input ends, the oldest unfilled window is
 * yielded if it holds items no window held yet.
 */
export function slidingCountWindow<T, K = never>(
  source: WindowSource<T>,
  options: SlidingCountWindowOptions<T, K>,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  return countWindows(source, options, options.size, options.slide);
}
