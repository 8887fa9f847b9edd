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

/** Options of {@link sessionWindow}. */
export interface SessionWindowOptions<T, K = never> extends TimeWindowOptions<T, K> {
  /** A session closes once no item has come for this long. */
  gapMs: number;
}

interface Session<T> {
  start: number;
  last: number;
  items: T[];
}

/**
 * Sessions per key, each sorted by start. An item at t spans [t, t + gap); sessions it overlaps
 * merge, so an out-of-order item can join two sessions into one.
 */
class SessionEngine<T> implements WindowEngine<T> {
  private readonly sessions = new Map<unknown, Session<T>[]>();
  private closedThrough = Number.NEGATIVE_INFINITY;
  // The earliest session end, or less (merges only raise it): nextClose() may then wake early.
  private lowestEnd = Number.POSITIVE_INFINITY;

  constructor(
    private readonly gapMs: number,
    private readonly latenessMs: number,
    private readonly keyed: boolean,
  ) {}

  add(item: T, time: number, key: unknown): boolean {
    const gap = this.gapMs;
    if (time + gap <= this.closedThrough) return false;
    let list = this.sessions.get(key);
    if (list === undefined) {
      list = [];
      this.sessions.set(key, list);
    }
    // Sessions are disjoint and sorted, so the ones [time, time + gap) overlaps are a run [lo, hi),
    // found from the latest end because items mostly come in order.
    let hi = list.length;
    while (hi > 0 && (list[hi - 1]?.start ?? 0) >= time + gap) hi--;
    let lo = hi;
    while (lo > 0 && (list[lo - 1]?.last ?? 0) + gap > time) lo--;
    const first = list[lo];
    let session: Session<T>;
    if (lo === hi || first === undefined) {
      session = { start: time, last: time, items: [item] };
      list.splice(hi, 0, session);
    } else {
      session = first;
      for (const later of list.splice(lo + 1, hi - lo - 1)) {
        for (const x of later.items) session.items.push(x);
        session.last = Math.max(session.last, later.last);
      }
      session.start = Math.min(session.start, time);
      session.last = Math.max(session.last, time);
      session.items.push(item);
    }
    this.lowestEnd = Math.min(this.lowestEnd, session.last + gap);
    return true;
  }

  advance(watermark: number): Window<T>[] {
    const through = watermark - this.latenessMs;
    if (through <= this.closedThrough) return [];
    this.closedThrough = through;
    if (this.lowestEnd > through) return [];
    const closed: { key: unknown; session: Session<T> }[] = [];
    this.lowestEnd = Number.POSITIVE_INFINITY;
    for (const [key, list] of this.sessions) {
      const open = list.filter((session) => {
        const end = session.last + this.gapMs;
        if (end <= through) closed.push({ key, session });
        else this.lowestEnd = Math.min(this.lowestEnd, end);
        return end > through;
      });
      if (open.length === 0) this.sessions.delete(key);
      else this.sessions.set(key, open);
    }
    // Stable sort: keys that tie keep the order in which they first appeared.
    closed.sort((a, b) => a.session.last - b.session.last || a.session.start - b.session.start);
    return closed.map(({ key, session }) =>
      makeWindow(session.start, session.last + this.gapMs, session.items, this.keyed, key),
    );
  }

  flush(): Window<T>[] {
    return this.advance(Number.POSITIVE_INFINITY);
  }

  nextClose(): number {
    return this.lowestEnd + this.latenessMs;
  }
}

/**
 * Yields a session per run of items with less than `gapMs` between neighbours (per key, with a
 * `key` option: a user's clicks). A session's `start` is its first item's time and its `end` the
 * last item's time plus `gapMs`, which is when it closes: when the watermark gets there (plus
 * `allowedLatenessMs`), by idle time or the arrival clock, or when the input ends.
 *
 * @example
 * for await (const s of sessionWindow(clicks, { gapMs: 30_000, key: (m) => m.headers["x-user"] }))
 *   yield { user: s.key, clicks: s.items.length };
 */
export function sessionWindow<T, K = never>(
  source: WindowSource<T>,
  options: SessionWindowOptions<T, K>,
): AsyncGenerator<WindowOf<T, K>, void, undefined> {
  const gapMs = checkMs("gapMs", options.gapMs, "positive");
  const o = resolveWindowOptions<T>(options, "throw");
  const engine = new SessionEngine<T>(gapMs, o.allowedLatenessMs, o.keyOf !== undefined);
  return runWindows(source, engine, o) as AsyncGenerator<WindowOf<T, K>, void, undefined>;
}
