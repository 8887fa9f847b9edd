/**
 * `@riff/sdk`: what riff function authors import. Windows and aggregates over a stream
 * function's inputs, `async function* (inputs) { ... }`. Pure TypeScript with no dependencies and
 * no Node-only imports. See docs/sdk.md.
 */
export { countBy, groupBy } from "./aggregates.js";
export { createFakeClock, systemClock, type Clock, type FakeClock } from "./clock.js";
export {
  slidingCountWindow,
  tumblingCountWindow,
  type SlidingCountWindowOptions,
  type TumblingCountWindowOptions,
} from "./count-windows.js";
export { sessionWindow, type SessionWindowOptions } from "./session-windows.js";
export {
  slidingWindow,
  tumblingWindow,
  type SlidingWindowOptions,
  type TumblingWindowOptions,
} from "./time-windows.js";
export {
  DEFAULT_ALLOWED_LATENESS_MS,
  DEFAULT_IDLE_FLUSH_MS,
  DEFAULT_TIME,
  timestampOf,
  type KeyedWindow,
  type TimeSource,
  type TimeWindowOptions,
  type Window,
  type WindowOf,
  type WindowOptions,
  type WindowSource,
} from "./window.js";
export { message, type OutgoingMessage } from "./message.js";
export { NonRetriableError } from "./errors.js";
