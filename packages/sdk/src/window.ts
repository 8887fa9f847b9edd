import { systemClock, type Clock } from "./clock.js";

/** A closed window: its time range and the items that fell in it, in the order they arrived. */
export interface Window<T> {
  /** Time windows: inclusive start. Count windows: the first item's time. Sessions: the first item's time. */
  readonly start: number;
  /** Time windows: exclusive end. Count windows: the last item's time. Sessions: the last item's time plus the gap. */
  readonly end: number;
  readonly items: T[];
}

/** A window of one key, from a window function given a `key` option. */
export interface KeyedWindow<T, K> extends Window<T> {
  readonly key: K;
}

/** {@link KeyedWindow} when a `key` option was given, else {@link Window}. */
export type WindowOf<T, K> = [K] extends [never] ? Window<T> : KeyedWindow<T, K>;

/** What window functions read: a stream function's inputs, or any (async) iterable. */
export type WindowSource<T> = AsyncIterable<T> | Iterable<T>;

/**
 * Where an item's time comes from: `"event"` reads it from the item (`timeOf`), `"arrival"` is
 * the clock's time when the window function takes the item from its input.
 */
export type TimeSource = "event" | "arrival";

/** @default "event": windows follow the time carried by the messages, so replays give the same windows. */
export const DEFAULT_TIME: TimeSource = "event";
/** @default 0 ms: a window closes as soon as the watermark passes its end. */
export const DEFAULT_ALLOWED_LATENESS_MS = 0;
/**
 * @default Infinity: in event time, open windows wait for a later item (or the end of the input)
 * unless `idleFlushMs` is set, because a pause in a replay must not close windows early.
 */
export const DEFAULT_IDLE_FLUSH_MS = Number.POSITIVE_INFINITY;

/** Options every window function takes. */
export interface WindowOptions<T, K = never> {
  /**
   * Windows per key: items with different keys never share a window, and each emitted window
   * carries its `key`. Keys are compared as Map keys (SameValueZero).
   * @default undefined: one window for all items
   */
  key?: (item: T) => K;
  /** @default DEFAULT_TIME */
  time?: TimeSource;
  /**
   * An item's event time in ms since the epoch.
   * @default the item's numeric `timestamp` property, as on a riff message `{ headers, payload, timestamp }`
   */
  timeOf?: (item: T) => number;
  /** Time in `"arrival"` mode and the timers that close windows while no input comes. @default systemClock */
  clock?: Clock;
  /** Stops the window iterator: its next `next()` rejects with the signal's reason, and the input is closed. */
  signal?: AbortSignal;
}

/** Options of the time and session windows. */
export interface TimeWindowOptions<T, K = never> extends WindowOptions<T, K> {
  /**
   * Event time only: how long the window function waits on its input before it assumes event time
   * moves with the clock. From then on the watermark is the latest event time plus the time spent
   * waiting, and windows close on the clock's timers.
   * @default DEFAULT_IDLE_FLUSH_MS
   */
  idleFlushMs?: number;
  /**
   * Event time only: how far behind the watermark an item may be and still join its windows. A
   * window closes when the watermark passes its end plus this.
   * @default DEFAULT_ALLOWED_LATENESS_MS
   */
  allowedLatenessMs?: number;
  /** Called for each item dropped because every window it belongs to had closed. @default ignore */
  onLate?: (item: T, time: number) => void;
}

/** Window options with the defaults applied, as the driver and the engines use them. */
export interface ResolvedWindowOptions<T> {
  time: TimeSource;
  /** undefined when the item carries no time. */
  timeOf: (item: T) => number | undefined;
  /** What to do with an item that has no time. */
  untimed: "throw" | "arrival";
  keyOf: ((item: T) => unknown) | undefined;
  clock: Clock;
  signal: AbortSignal | undefined;
  idleFlushMs: number;
  allowedLatenessMs: number;
  onLate: (item: T, time: number) => void;
}

/** Reads `item.timestamp` when it is a finite number. */
export function timestampOf(item: unknown): number | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const t = (item as { timestamp?: unknown }).timestamp;
  return typeof t === "number" && Number.isFinite(t) ? t : undefined;
}

/**
 * Checks a numeric option at call time rather than on the first `next()`. Only a duration that
 * means "never" may be Infinity.
 */
export function checkMs(name: string, value: number, rule: "positive" | "non-negative" | "non-negative-or-never"): number {
  const finite = Number.isFinite(value) || (rule === "non-negative-or-never" && value === Number.POSITIVE_INFINITY);
  const ok = typeof value === "number" && finite && (rule === "positive" ? value > 0 : value >= 0);
  if (!ok) throw new RangeError(`${name} must be a ${rule} number, got ${String(value)}`);
  return value;
}

/** Applies the defaults once. `untimed` says what count windows (arrival) and time windows (throw) do with an untimed item. */
export function resolveWindowOptions<T>(
  options: TimeWindowOptions<T, unknown>,
  untimed: "throw" | "arrival",
): ResolvedWindowOptions<T> {
  const time = options.time ?? DEFAULT_TIME;
  if (time !== "event" && time !== "arrival") throw new RangeError(`time must be "event" or "arrival", got ${String(time)}`);
  return {
    time,
    timeOf: options.timeOf ?? timestampOf,
    untimed,
    keyOf: options.key,
    clock: options.clock ?? systemClock,
    signal: options.signal,
    idleFlushMs: checkMs("idleFlushMs", options.idleFlushMs ?? DEFAULT_IDLE_FLUSH_MS, "non-negative-or-never"),
    // Arrival time never goes back, so nothing can be late.
    allowedLatenessMs: time === "arrival" ? 0 : checkMs("allowedLatenessMs", options.allowedLatenessMs ?? DEFAULT_ALLOWED_LATENESS_MS, "non-negative"),
    onLate: options.onLate ?? (() => {}),
  };
}

/** Builds an emitted window, with `key` only when the windows are keyed. */
export function makeWindow<T>(start: number, end: number, items: T[], keyed: boolean, key: unknown): Window<T> {
  if (!keyed) return { start, end, items };
  const window: KeyedWindow<T, unknown> = { start, end, items, key };
  return window;
}

/**
 * The pure, synchronous state of one kind of window; `runWindows` feeds it items and time.
 * Watermark: the time up to which the input is believed complete.
 */
export interface WindowEngine<T> {
  /** Adds an item; returns false when it was dropped because its windows had all closed. */
  add(item: T, time: number, key: unknown): boolean;
  /** Takes the windows that are complete at this watermark, in end order. */
  advance(watermark: number): Window<T>[];
  /** Takes every open window: the input has ended. */
  flush(): Window<T>[];
  /** The watermark at which the next window closes, or a lower bound of it; Infinity if none can. */
  nextClose(): number;
}
