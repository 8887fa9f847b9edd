import type { ResolvedWindowOptions, Window, WindowEngine, WindowSource } from "./window.js";

// Runtimes fire a longer setTimeout at once (Node: with a warning); a long wait is done in steps.
const MAX_TIMER_MS = 2_147_483_647;

type Received<T> = { result: IteratorResult<T> } | { error: unknown };
type Input<T> = { kind: "async"; it: AsyncIterator<T> } | { kind: "sync"; it: Iterator<T> };

/**
 * Feeds an input to a window engine and yields the windows it closes. Shared by every window
 * function; the engines know nothing of promises or timers.
 *
 * Backpressure: at most one `next()` is outstanding on the input, and a new one is asked for only
 * when the consumer has taken the windows the last item closed. Timers never pull from the input;
 * they only wake the loop so that time can close windows while the input is quiet.
 */
export async function* runWindows<T>(
  source: WindowSource<T>,
  engine: WindowEngine<T>,
  o: ResolvedWindowOptions<T>,
): AsyncGenerator<Window<T>, void, undefined> {
  const { clock, signal } = o;
  signal?.throwIfAborted();
  const input: Input<T> =
    Symbol.asyncIterator in source
      ? { kind: "async", it: source[Symbol.asyncIterator]() }
      : { kind: "sync", it: source[Symbol.iterator]() };
  // Event time without idleFlushMs never needs the clock; Date.now() is not free.
  const usesClock = o.time === "arrival" || Number.isFinite(o.idleFlushMs);
  let received: Received<T> | undefined;
  let pulling = false;
  let ended = false;
  let waitingSince = 0;
  let latestTime = Number.NEGATIVE_INFINITY;
  let watermark = Number.NEGATIVE_INFINITY;
  let wake = (): void => {};
  let timer: unknown;
  let timerDue = Number.POSITIVE_INFINITY;

  const pull = (): void => {
    if (input.kind === "sync") {
      // A sync input (an array) is read in step with the loop, without a promise per item.
      try {
        received = { result: input.it.next() };
      } catch (error) {
        received = { error };
      }
      return;
    }
    pulling = true;
    if (usesClock) waitingSince = clock.now();
    let next: Promise<IteratorResult<T>>;
    try {
      next = input.it.next();
    } catch (error) {
      next = Promise.reject(error);
    }
    next.then(
      (result) => {
        received = { result };
        wake();
      },
      (error: unknown) => {
        received = { error };
        wake();
      },
    );
  };

  // The watermark that time alone justifies: the clock in arrival time; in event time, after
  // idleFlushMs of waiting on the input, the latest event time plus the time waited.
  const clockWatermark = (now: number): number => {
    if (o.time === "arrival") return now;
    const waited = now - waitingSince;
    return pulling && waited >= o.idleFlushMs ? latestTime + waited : Number.NEGATIVE_INFINITY;
  };
  // When clockWatermark() reaches `target`; Infinity when time alone never gets there.
  const clockTimeOf = (target: number): number => {
    if (o.time === "arrival") return target;
    if (!Number.isFinite(o.idleFlushMs) || !Number.isFinite(latestTime)) return Number.POSITIVE_INFINITY;
    return waitingSince + Math.max(o.idleFlushMs, target - latestTime);
  };
  const schedule = (due: number): void => {
    // A timer already due sooner is kept: it may wake early, which costs one pass of the loop,
    // instead of a clearTimeout and setTimeout for every item.
    if (!Number.isFinite(due) || (timer !== undefined && timerDue <= due)) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timerDue = due;
    timer = clock.setTimeout(() => {
      timer = undefined;
      timerDue = Number.POSITIVE_INFINITY;
      wake();
    }, Math.min(MAX_TIMER_MS, Math.max(0, due - clock.now())));
  };
  const timeOfItem = (item: T): number => {
    if (o.time === "arrival") return clock.now();
    const time = o.timeOf(item);
    if (typeof time === "number" && !Number.isNaN(time)) return time;
    if (o.untimed === "arrival") return clock.now();
    throw new TypeError(
      "an item has no event time: in a riff function, set `fn.$argumentType = \"message\"` so items are messages with a `timestamp`; or give items a numeric `timestamp`, pass `timeOf`, or use `time: \"arrival\"`",
    );
  };

  const onAbort = (): void => wake();
  signal?.addEventListener("abort", onAbort);
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (received !== undefined) {
        const r = received;
        received = undefined;
        pulling = false;
        if ("error" in r) {
          ended = true;
          throw r.error;
        }
        if (r.result.done === true) {
          ended = true;
          break;
        }
        const item = r.result.value;
        const time = timeOfItem(item);
        if (!engine.add(item, time, o.keyOf?.(item))) o.onLate(item, time);
        latestTime = Math.max(latestTime, time);
        watermark = Math.max(watermark, time);
      }
      if (usesClock) watermark = Math.max(watermark, clockWatermark(clock.now()));
      for (const w of engine.advance(watermark)) yield w;
      // The consumer may have taken its time: look at what arrived meanwhile before waiting.
      if (received !== undefined) continue;
      if (!pulling) {
        pull();
        if (received !== undefined) continue;
      }
      schedule(clockTimeOf(engine.nextClose()));
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    for (const w of engine.flush()) yield w;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (timer !== undefined) clock.clearTimeout(timer);
    if (!ended) {
      // A consumer that stops early closes the input too. With a next() still outstanding the
      // input's return() would wait for that item, which may never come: do not wait for it.
      const closing = Promise.resolve(input.it.return?.());
      if (pulling) closing.catch(() => {});
      else await closing;
    }
  }
}
