/**
 * What riff tells about its own work: one event per finished invocation, gateway request,
 * cold start, retry, dead letter and scaling decision. The runtime, the gateway and the
 * autoscaler emit them into one `TelemetrySink`; the daemon fans them out to the Prometheus
 * metrics, the invocation records and the dashboard's live series, so that the three cannot
 * disagree about what happened. Types and a pure fan-out only: no IO here.
 */

/** How an invocation ended, as the metrics' `outcome` label and the records' `status` say it. */
export type InvocationStatus = "success" | "error" | "timeout";

/** Fields every span of a trace has. Span and trace ids are W3C trace-context hex strings. */
export interface SpanBase {
  /** The span id (16 hex digits); unique, and the record's id. */
  id: string;
  /** The trace id (32 hex digits) shared by every hop of one published message. */
  traceId: string;
  /** The span this one follows: the gateway's, the previous function's, or the caller's own. */
  parentId?: string | undefined;
  /** When it started, in ms since the epoch. */
  startedAt: number;
  durationMs: number;
  /** The cluster node that did it (absent on a single daemon). */
  node?: string | undefined;
  /**
   * False when its trace was not sampled (W3C flags 00: over `--records-rate`, or the caller
   * said so): counted in the metrics, but kept as a record only if it failed. Absent: sampled.
   */
  sampled?: false | undefined;
}

/** One message through one function: a span of its trace, and an invocation record. */
export interface InvocationRecord extends SpanBase {
  kind: "invocation";
  function: string;
  revision: number;
  topic: string;
  partition: number;
  offset: number;
  key?: string | undefined;
  status: InvocationStatus;
  /** `http`: a `/requests` caller waited for this run's reply; `pubsub`: nobody waited. */
  trigger: "http" | "pubsub";
  /** 1 for the first run of this message, 2 for its first retry, ... */
  attempt: number;
  /** The replica was started for this message (or had handled nothing yet). */
  cold: boolean;
  /** For a cold invocation: how long its replica took to start, in ms. */
  initMs?: number | undefined;
  /** From the message's append to its dispatch to a replica, in ms. */
  queueWaitMs: number;
  /** The replica's id within its function (`r1`, `r2`, ...). */
  replica: string;
  error?: { code: string; message: string } | undefined;
  /** A failed invocation's input, kept (up to a cap) to inspect and run again. */
  payload?: { base64: string; contentType: string; truncated: boolean } | undefined;
}

/** A request through the gateway: the root span of the trace it starts (or continues). */
export interface RequestSpan extends SpanBase {
  kind: "request";
  /** `messages` (publish, 202) or `requests` (wait for the reply). */
  path: "messages" | "requests";
  /** The topic named in the path; empty when it does not exist (keeps metric labels bounded). */
  topic: string;
  /** The HTTP status answered. */
  code: number;
}

export type Span = InvocationRecord | RequestSpan;

/** A replica started, timed from its spawn to ready; `invoker` names the runtime (node, python, ...). */
export interface ColdStart {
  function: string;
  invoker: string;
  initMs: number;
}

/**
 * Why the autoscaler changed a function's replica count, as a bounded label (`reason`) and
 * as the sentence `riff describe` shows (`why`).
 */
export type ScalingReason = "backlog" | "idle" | "min-replicas" | "load" | "started" | "placement";

export interface ScalingDecision {
  function: string;
  at: number;
  from: number;
  to: number;
  direction: "up" | "down";
  reason: ScalingReason;
  why: string;
}

/** Receives riff's telemetry. Every method must be cheap and must not throw. */
export interface TelemetrySink {
  invocation(record: InvocationRecord): void;
  request(span: RequestSpan): void;
  coldStart(event: ColdStart): void;
  /** A failed message will run again after a backoff. */
  retry(fn: string): void;
  /** A message went to the function's dead-letter topic; `code` is the RiffError code why. */
  deadLetter(fn: string, code: string): void;
  scaling(decision: ScalingDecision): void;
}

/** Passes each event to every subscribed sink; a sink that throws does not stop the others. */
export class TelemetryHub implements TelemetrySink {
  readonly #sinks: Partial<TelemetrySink>[] = [];

  /** Adds a sink (it may implement only the events it wants); returns the unsubscribe function. */
  subscribe(sink: Partial<TelemetrySink>): () => void {
    this.#sinks.push(sink);
    return () => {
      const i = this.#sinks.indexOf(sink);
      if (i >= 0) this.#sinks.splice(i, 1);
    };
  }

  invocation(record: InvocationRecord): void {
    for (const s of this.#sinks) call(() => s.invocation?.(record));
  }
  request(span: RequestSpan): void {
    for (const s of this.#sinks) call(() => s.request?.(span));
  }
  coldStart(event: ColdStart): void {
    for (const s of this.#sinks) call(() => s.coldStart?.(event));
  }
  retry(fn: string): void {
    for (const s of this.#sinks) call(() => s.retry?.(fn));
  }
  deadLetter(fn: string, code: string): void {
    for (const s of this.#sinks) call(() => s.deadLetter?.(fn, code));
  }
  scaling(decision: ScalingDecision): void {
    for (const s of this.#sinks) call(() => s.scaling?.(decision));
  }
}

/** Telemetry must never break the work it describes. */
function call(f: () => void): void {
  try {
    f();
  } catch {
    // A broken sink loses its own event only.
  }
}

/** Whether a span is kept as a record (and exported): its trace was sampled, or it failed. */
export function isRecorded(span: Span): boolean {
  if (span.sampled !== false) return true;
  return span.kind === "invocation" ? span.status !== "success" : span.code >= 500;
}

/** Whether W3C trace flags say "sampled" (bit 0). */
export function isSampledFlags(flags: string): boolean {
  return (Number.parseInt(flags, 16) & 1) === 1;
}

/** The trace id and parent span id of a W3C `traceparent` header, or undefined when malformed. */
export function parseTraceparent(value: string | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (m === null) return undefined;
  const [, version, traceId, parentId, flags] = m as unknown as [string, string, string, string, string];
  if (version === "ff" || /^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceId, parentId, flags };
}

/** A `traceparent` for a child span `spanId` of trace `traceId`. */
export function traceparentOf(traceId: string, spanId: string, flags = "01"): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** Which invocation records to list; newest first. */
export interface RecordFilter {
  function?: string | undefined;
  status?: InvocationStatus | undefined;
  /** @default 50 */
  limit?: number | undefined;
  /** Only records that started before this time (ms since the epoch): the next page. */
  before?: number | undefined;
}

/** The invocation records and trace spans riff keeps (bounded by count and age), in every mode. */
export interface RecordReader {
  list(filter: RecordFilter): Promise<InvocationRecord[]>;
  /** One span by its id (an invocation record or a request span). */
  get(id: string): Promise<Span | undefined>;
  /** Every span kept of one trace, oldest first. */
  trace(traceId: string): Promise<Span[]>;
}

/**
 * Random bytes fetched 4 KiB at a time: one getrandom() per ~170 trace ids instead of one
 * each (Web Crypto, so that core needs no `node:` import).
 */
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function randomHex(bytes: number): string {
  if (randomAt + bytes > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  let out = "";
  for (let i = 0; i < bytes; i++) out += HEX[randomPool[randomAt + i] as number];
  randomAt += bytes;
  return out;
}

/** A new W3C trace id: 32 hex digits. */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new W3C span id: 16 hex digits. */
export function newSpanId(): string {
  return randomHex(8);
}

/** Now, in ms since the epoch to the microsecond: spans of one trace line up finely. */
export function preciseNow(): number {
  return toMicros(performance.timeOrigin + performance.now());
}

/** Milliseconds to the microsecond: short numbers, which records store smaller and write faster. */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
