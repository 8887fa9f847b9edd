import { runWindows } from "./window-driver.js";
import {
  checkMs,
  makeWindow,
  resolveWindowOptions,
  type TimeWindowOptions,
  type Window,
  type WindowEngine,
  type WindowOf,
  type WindowSource,
} from "./window.js";

/** Options of {@link tumblingWindow}. */
export interface TumblingWindowOptions<T, K = never> extends TimeWindowOptions<T, K> {
  /** Length of each window; windows are aligned to multiples of it since the epoch. */
  sizeMs: number;
}

/** Options of {@link slidingWindow}. */
export interface SlidingWindowOptions<T, K = never> extends TimeWindowOptions<T, K> {
  /** Length of each window. */
  sizeMs: number;
  /** Time between the starts of two windows; windows start at multiples of it since the epoch. */
  slideMs: number;
}

/**
 * Windows of `sizeMs` starting every `slideMs`: an item at time t is in every window with
 * start <= t < start + sizeMs. Windows are created by their first item, so empty ones are never
 * emitted.
 */
class SlidingTimeEngine<T> implements WindowEngine<T> {
  // start -> key -> items; keys in the order they first appeared in the window.
  private readonly open = new Map<number, Map<unknown, T[]>>();
  // Every window ending at or before this has been emitted.
  private closedThrough = Number.NEGATIVE_INFINITY;
  // The earliest open start, or less: see nextClose().
  private lowestStart = Number.POSITIVE_INFINITY;

  constructor(
    private readonly sizeMs: number,
    private readonly slideMs: number,
    private readonly latenessMs: number,
    private readonly keyed: boolean,
  ) {}

  add(item: T, time: number, key: unknown): boolean {
    let belongs = false;
    let added = false;
    for (let start = Math.floor(time / this.slideMs) * this.slideMs; start > time - this.sizeMs; start -= this.slideMs) {
      belongs = true;
      // Earlier starts end earlier, so they are closed too.
      if (start + this.sizeMs <= this.closedThrough) break;
      let byKey = this.open.get(start);
      if (byKey === undefined) {
        byKey = new Map();
        this.open.set(start, byKey);
        this.lowestStart = Math.min(this.lowestStart, start);
      }
      const items = byKey.get(key);
      if (items === undefined) byKey.set(key, [item]);
      else items.push(item);
      added = true;
    }
    // An item in the gap between hopping windows (slide > size) is in no window, but not late.
    return added || !belongs;
  }

  advance(watermark: number): Window<T>[] {
    const through = watermark - this.latenessMs;
    if (through <= this.closedThrough) return [];
    this.closedThrough = through;
    if (this.lowestStart + this.sizeMs > through) return [];
    const starts = [...this.open.keys()].filter((s) => s + this.sizeMs <= through).sort((a, b) => a - b);
    const closed: Window<T>[] = [];
    for (const start of starts) {
      for (const [key, items] of this.open.get(start) ?? []) {
        closed.push(makeWindow(start, start + this.sizeMs, items, this.keyed, key));
      }
      this.open.delete(start);
    }
    this.lowestStart = Number.POSITIVE_INFINITY;
    for (const start of this.open.keys()) this.lowestStart = Math.min(this.lowestStart, start);
    return closed;
  }

  flush(): Window<T>[] {
    return this.advance(Number.POSITIVE_INFINITY);
  }

  nextClose(): number {
    return this.lowestStart + this.sizeMs + this.latenessMs;
  }
}

/**
 * Splits the input into back-to-back windows of `sizeMs` (0-2 s, 2-4 s, ...) and yields each
 * when it closes: when the watermark passes its end (plus `allowedLatenessMs`), when idle time or
 * the arrival clock gets there, or when the input ends.
 *
 * @example
 * for await (const w of tumblingWindow(inputs, { sizeMs: 2000 })) yield w.items.length;
 */
export function tumblingWindow<T, K = never>(
  source: WindowSource<T>,
  options: TumblingWindowOptions<T, K>,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  const size = checkMs("sizeMs", options.sizeMs, "positive");
  return slidingWindow(source, { ...options, sizeMs: size, slideMs: size });
}

/**
 * Yields windows of `sizeMs` that start every `slideMs`, so an item is in `sizeMs / slideMs`
 * windows. A window closes like a {@link tumblingWindow}'s.
 *
 * @example Votes in the last 60 s, every 2 s:
 * for await (const w of slidingWindow(inputs, { sizeMs: 60_000, slideMs: 2_000 }))
 *   yield { end: w.end, counts: countBy(w.items, (m) => String(m.payload)) };
 */
export function slidingWindow<T, K = never>(
  source: WindowSource<T>,
  options: SlidingWindowOptions<T, K>,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  const sizeMs = checkMs("sizeMs", options.sizeMs, "positive");
  const slideMs = checkMs("slideMs", options.slideMs, "positive");
  const o = resolveWindowOptions<T>(options, "throw");
  const engine = new SlidingTimeEngine<T>(sizeMs, slideMs, o.allowedLatenessMs, o.keyOf !== undefined);
  return runWindows(source, engine, o) as AsyncGenerator<WindowOf<T, K>, void, undefined>;
}
