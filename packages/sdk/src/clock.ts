/**
 * Where windows read the time and set their timers. Injectable so that tests drive time with
 * {@link createFakeClock} instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer returned by {@link Clock.setTimeout}; a fired or cleared one is ignored. */
  clearTimeout(handle: unknown): void;
}

// The timer functions exist in every JS runtime (Node, Deno, browsers, workers); reading them from
// globalThis keeps this package free of Node-only imports.
interface TimerHost {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const host = globalThis as unknown as TimerHost;

/** The real clock: `Date.now()` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => host.setTimeout(fn, ms),
  clearTimeout: (handle) => host.clearTimeout(handle),
};

/** A {@link Clock} whose time moves only when told to. */
export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, in due-time order
   * (ties in the order they were set), each with `now()` at its due time. Timers set by a firing
   * timer fire too if they fall due within the same advance.
   */
  advance(ms: number): void;
  /** Timers set and not yet fired or cleared. */
  pending(): number;
}

interface FakeTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * Creates a fake clock starting at `startMs` (default 0), for tests: nothing happens until
 * {@link FakeClock.advance} is called, and then it happens synchronously.
 */
export function createFakeClock(startMs = 0): FakeClock {
  let now = startMs;
  let nextId = 1;
  const timers: FakeTimer[] = [];

  const takeNextDue = (until: number): FakeTimer | undefined => {
    let best = -1;
    for (let i = 0; i < timers.length; i++) {
      const t = timers[i];
      const b = timers[best];
      if (t !== undefined && t.due <= until && (b === undefined || t.due < b.due || (t.due === b.due && t.id < b.id))) {
        best = i;
      }
    }
    return best < 0 ? undefined : timers.splice(best, 1)[0];
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.push({ id, due: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle) {
      const i = timers.findIndex((t) => t.id === handle);
      if (i >= 0) timers.splice(i, 1);
    },
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be >= 0, got ${ms}`);
      const until = now + ms;
      for (let t = takeNextDue(until); t !== undefined; t = takeNextDue(until)) {
        now = t.due;
        t.fn();
      }
      now = until;
    },
    pending: () => timers.length,
  };
}
