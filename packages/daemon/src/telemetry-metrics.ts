import type { Registry } from "prom-client";
import type { ColdStart, InvocationRecord, InvocationStatus, RequestSpan, ScalingDecision, ScalingReason, TelemetrySink } from "@riff/core";
import { FastCounter, FastHistogram } from "./fast-metrics.js";

/** Latencies from a millisecond to a minute: function calls, gateway requests, queue waits. */
const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Replica start-up, from a pooled process (tens of ms) to a JVM (seconds). */
const INIT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Inc {
  inc(value?: number): void;
}
interface Observe {
  observe(value: number): void;
}

/**
 * One function's label children, made at its first event: `labels()` joins its arguments,
 * and an invocation must cost a map lookup and an add, not that. `removers` take every
 * series of the function out of the registry when it is deleted.
 */
interface ColdStartSeries {
  count: Inc;
  init: Observe;
}

/** The autoscaler's decisions, by direction and reason, whose series every function has from 0. */
const DECISIONS: readonly (readonly [ScalingDecision["direction"], ScalingReason])[] = [
  ["up", "started"],
  ["up", "backlog"],
  ["up", "min-replicas"],
  ["down", "idle"],
  ["down", "load"],
];

interface FunctionSeries {
  outcomes: Record<InvocationStatus, Inc>;
  /** By trigger: `http` when a /requests caller waited, `pubsub` when nobody did. */
  duration: Record<"http" | "pubsub", Observe>;
  queueWait: Observe;
  retries: Inc;
  /** By invoker. */
  coldStarts: Map<string, ColdStartSeries>;
  /** By the RiffError code why. */
  deadLettered: Map<string, Inc>;
  /** By `direction reason`. */
  decisions: Map<string, Inc>;
  removers: (() => void)[];
}

/** One topic and path of the gateway: its duration histogram and its counters by status code. */
interface RouteSeries {
  duration: Observe;
  codes: Map<number, Inc>;
  removers: (() => void)[];
}

/**
 * The metrics that count events: a {@link TelemetrySink} that keeps riff's counters and
 * histograms in `registry`. Functions and topics come and go with the user's resources;
 * {@link retainFunctions} and {@link retainTopics} drop the series of the gone ones, so the
 * registry stays as large as what exists.
 */
export class TelemetryMetrics implements TelemetrySink {
  readonly #requests: FastCounter<"topic" | "path" | "code">;
  readonly #requestSeconds: FastHistogram<"topic" | "path">;
  readonly #invocations: FastCounter<"function" | "outcome">;
  readonly #invokeSeconds: FastHistogram<"function" | "trigger">;
  readonly #coldStarts: FastCounter<"function" | "invoker">;
  readonly #initSeconds: FastHistogram<"function" | "invoker">;
  readonly #queueWait: FastHistogram<"function">;
  readonly #retries: FastCounter<"function">;
  readonly #deadLettered: FastCounter<"function" | "reason">;
  readonly #decisions: FastCounter<"function" | "direction" | "reason">;
  readonly #functions = new Map<string, FunctionSeries>();
  /** By path, then topic. */
  readonly #routes: Record<RequestSpan["path"], Map<string, RouteSeries>> = { messages: new Map(), requests: new Map() };

  /** `settle` runs before each scrape reads these metrics (the scrape drops the gone functions' series). */
  constructor(registry: Registry, settle: () => Promise<unknown>) {
    const common = { registry, settle };
    this.#requests = new FastCounter({ name: "riff_gateway_requests_total", help: "Requests answered by the gateway, by topic (empty when it does not exist), path (messages or requests) and HTTP status code.", labelNames: ["topic", "path", "code"], ...common });
    this.#requestSeconds = new FastHistogram({ name: "riff_gateway_request_duration_seconds", help: "Time from a gateway request's arrival to its answer.", labelNames: ["topic", "path"], buckets: SECONDS_BUCKETS, ...common });
    this.#invocations = new FastCounter({ name: "riff_function_invocations_total", help: "Finished invocations of a function, by outcome: success, error or timeout.", labelNames: ["function", "outcome"], ...common });
    this.#invokeSeconds = new FastHistogram({ name: "riff_function_invoke_duration_seconds", help: "Time a replica took to handle one message.", labelNames: ["function", "trigger"], buckets: SECONDS_BUCKETS, ...common });
    this.#coldStarts = new FastCounter({ name: "riff_function_coldstarts_total", help: "Replicas started, each a cold start of the function.", labelNames: ["function", "invoker"], ...common });
    this.#initSeconds = new FastHistogram({ name: "riff_function_init_duration_seconds", help: "Time from a replica's spawn until it was ready.", labelNames: ["function", "invoker"], buckets: INIT_BUCKETS, ...common });
    this.#queueWait = new FastHistogram({ name: "riff_function_queue_wait_seconds", help: "Time from a message's append to its dispatch to a replica.", labelNames: ["function"], buckets: SECONDS_BUCKETS, ...common });
    this.#retries = new FastCounter({ name: "riff_function_retries_total", help: "Failed messages scheduled to run again after a backoff.", labelNames: ["function"], ...common });
    this.#deadLettered = new FastCounter({ name: "riff_function_deadlettered_total", help: "Messages sent to the function's dead-letter topic, by the error code why.", labelNames: ["function", "reason"], ...common });
    this.#decisions = new FastCounter({ name: "riff_autoscaler_decisions_total", help: "Changes of a function's replica count decided by the autoscaler, by direction and reason.", labelNames: ["function", "direction", "reason"], ...common });
  }

  invocation(record: InvocationRecord): void {
    const s = this.#function(record.function);
    s.outcomes[record.status].inc();
    s.duration[record.trigger].observe(record.durationMs / 1000);
    s.queueWait.observe(record.queueWaitMs / 1000);
  }

  request(span: RequestSpan): void {
    // By path, then topic: no key string is built per request.
    const routes = this.#routes[span.path];
    let r = routes.get(span.topic);
    if (r === undefined) {
      const labels = { topic: span.topic, path: span.path };
      r = { duration: this.#requestSeconds.labels(labels), codes: new Map(), removers: [() => this.#requestSeconds.remove(labels)] };
      routes.set(span.topic, r);
    }
    r.duration.observe(span.durationMs / 1000);
    let code = r.codes.get(span.code);
    if (code === undefined) {
      const labels = { topic: span.topic, path: span.path, code: String(span.code) };
      code = this.#requests.labels(labels);
      r.codes.set(span.code, code);
      r.removers.push(() => this.#requests.remove(labels));
    }
    code.inc();
  }

  coldStart(event: ColdStart): void {
    const c = this.#coldStartSeries(this.#function(event.function), event.function, event.invoker);
    c.count.inc();
    c.init.observe(event.initMs / 1000);
  }

  #coldStartSeries(s: FunctionSeries, fn: string, invoker: string): ColdStartSeries {
    let c = s.coldStarts.get(invoker);
    if (c === undefined) {
      const labels = { function: fn, invoker };
      c = { count: this.#coldStarts.labels(labels), init: this.#initSeconds.labels(labels) };
      s.coldStarts.set(invoker, c);
      s.removers.push(() => this.#coldStarts.remove(labels), () => this.#initSeconds.remove(labels));
    }
    return c;
  }

  retry(fn: string): void {
    this.#function(fn).retries.inc();
  }

  deadLetter(fn: string, code: string): void {
    const s = this.#function(fn);
    this.#child(s, s.deadLettered, code, this.#deadLettered, { function: fn, reason: code }).inc();
  }

  scaling(decision: ScalingDecision): void {
    this.#decision(this.#function(decision.function), decision.function, decision.direction, decision.reason).inc();
  }

  #decision(s: FunctionSeries, fn: string, direction: ScalingDecision["direction"], reason: ScalingReason): Inc {
    return this.#child(s, s.decisions, `${direction} ${reason}`, this.#decisions, { function: fn, direction, reason });
  }

  /**
   * Makes the series of every function in `functions` (name -> invoker) at 0, so that `rate()`
   * and `increase()` see its first invocation, cold start and scaling decision, and drops those
   * of every function not in it (deleted since). Dead letters are by error code, an open set:
   * theirs appear at the first.
   */
  retainFunctions(functions: ReadonlyMap<string, string>): void {
    for (const [name, invoker] of functions) {
      const s = this.#function(name);
      this.#coldStartSeries(s, name, invoker);
      for (const [direction, reason] of DECISIONS) this.#decision(s, name, direction, reason);
    }
    for (const [name, s] of this.#functions) {
      if (functions.has(name)) continue;
      for (const remove of s.removers) remove();
      this.#functions.delete(name);
    }
  }

  /** Drops the gateway's series of every topic not in `names`; the empty topic (unknown ones) stays. */
  retainTopics(names: ReadonlySet<string>): void {
    for (const routes of Object.values(this.#routes)) {
      for (const [topic, r] of routes) {
        if (topic === "" || names.has(topic)) continue;
        for (const remove of r.removers) remove();
        routes.delete(topic);
      }
    }
  }

  #function(name: string): FunctionSeries {
    const known = this.#functions.get(name);
    if (known !== undefined) return known;
    const fn = { function: name };
    const outcome = (o: InvocationStatus) => ({ function: name, outcome: o });
    const duration = (trigger: "http" | "pubsub") => ({ function: name, trigger });
    const s: FunctionSeries = {
      outcomes: {
        success: this.#invocations.labels(outcome("success")),
        error: this.#invocations.labels(outcome("error")),
        timeout: this.#invocations.labels(outcome("timeout")),
      },
      duration: { http: this.#invokeSeconds.labels(duration("http")), pubsub: this.#invokeSeconds.labels(duration("pubsub")) },
      queueWait: this.#queueWait.labels(fn),
      retries: this.#retries.labels(fn),
      coldStarts: new Map(),
      deadLettered: new Map(),
      decisions: new Map(),
      removers: [
        ...(["success", "error", "timeout"] as const).map((o) => () => this.#invocations.remove(outcome(o))),
        () => this.#invokeSeconds.remove(duration("http")),
        () => this.#invokeSeconds.remove(duration("pubsub")),
        () => this.#queueWait.remove(fn),
        () => this.#retries.remove(fn),
      ],
    };
    this.#functions.set(name, s);
    return s;
  }

  /** The counter child for `key` in one of a function's maps, made (and made removable) at first use. */
  #child<L extends string>(s: FunctionSeries, children: Map<string, Inc>, key: string, counter: FastCounter<L>, labels: Record<L, string>): Inc {
    let child = children.get(key);
    if (child === undefined) {
      child = counter.labels(labels);
      children.set(key, child);
      s.removers.push(() => counter.remove(labels));
    }
    return child;
  }
}
