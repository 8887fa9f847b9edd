import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace";
import { isRecorded, type Logger, type Span, type TelemetrySink } from "@riff/core";

/** Spans are sent at least this often... */
const EXPORT_EVERY_MS = 1000;
/** ...or once this many wait. */
const EXPORT_AT = 512;
/** Spans held while the collector does not answer; older ones are dropped beyond it. */
const MAX_QUEUED = 8192;

/**
 * Sends riff's spans (gateway requests and invocations, the same ones `riff trace` shows) to
 * an OpenTelemetry collector over OTLP/HTTP, with the ids riff gave them, so that a trace that
 * enters riff from an instrumented caller goes on in the caller's tracing backend. Loaded only
 * when `--otlp-endpoint` is set. Export is best effort: a collector that is away costs dropped
 * spans (logged once), never riff's work.
 */
export class OtlpExport {
  readonly #exporter: OTLPTraceExporter;
  readonly #resource;
  #queue: ReadableSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  #failing = false;
  #sending: Promise<void> = Promise.resolve();

  constructor(
    endpoint: string,
    private readonly o: { node: string | undefined; version: string; logger: Logger },
  ) {
    this.#exporter = new OTLPTraceExporter({ url: endpoint });
    this.#resource = resourceFromAttributes({
      "service.name": "riff",
      "service.version": o.version,
      ...(o.node === undefined ? {} : { "service.instance.id": o.node }),
    });
  }

  sink(): Partial<TelemetrySink> {
    return { invocation: (r) => this.add(r), request: (s) => this.add(s) };
  }

  /** Sends what waits, then stops the exporter. */
  async stop(): Promise<void> {
    await this.flush();
    await this.#exporter.shutdown();
  }

  private add(span: Span): void {
    if (!isRecorded(span)) return;
    if (this.#queue.length >= MAX_QUEUED) this.#queue.shift();
    this.#queue.push(this.readable(span));
    if (this.#queue.length >= EXPORT_AT) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), EXPORT_EVERY_MS).unref();
  }

  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return this.#sending;
    this.#queue = [];
    this.#sending = this.#sending.then(
      () =>
        new Promise<void>((resolve) => {
          this.#exporter.export(batch, (result) => {
            const ok = result.code === 0;
            if (!ok && !this.#failing) this.o.logger.warn("spans could not be sent to the OTLP endpoint; they are dropped until it answers", { err: String(result.error) });
            if (ok && this.#failing) this.o.logger.info("spans are sent to the OTLP endpoint again");
            this.#failing = !ok;
            resolve();
          });
        }),
    );
    return this.#sending;
  }

  /** One of riff's spans as the SDK's span, with riff's ids and the semantic conventions' attributes. */
  private readable(span: Span): ReadableSpan {
    const start = hrTime(span.startedAt);
    const end = hrTime(span.startedAt + span.durationMs);
    const failed = span.kind === "request" ? span.code >= 500 : span.status !== "success";
    const context = { traceId: span.traceId, spanId: span.id, traceFlags: TraceFlags.SAMPLED };
    return {
      name: span.kind === "request" ? `POST /${span.path}/{topic}` : `${span.function} process`,
      kind: span.kind === "request" ? SpanKind.SERVER : SpanKind.CONSUMER,
      spanContext: () => context,
      parentSpanContext: span.parentId === undefined ? undefined : { traceId: span.traceId, spanId: span.parentId, traceFlags: TraceFlags.SAMPLED, isRemote: true },
      startTime: start,
      endTime: end,
      duration: hrTime(span.durationMs),
      status: failed ? { code: SpanStatusCode.ERROR, ...(span.kind === "invocation" && span.error !== undefined ? { message: span.error.message } : {}) } : { code: SpanStatusCode.UNSET },
      attributes: attributesOf(span, this.o.node),
      links: [],
      events: [],
      ended: true,
      resource: this.#resource,
      instrumentationScope: { name: "riff", version: this.o.version },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  }
}

/** OpenTelemetry's FaaS, messaging and HTTP attributes (see docs/tracing.md). */
function attributesOf(span: Span, node: string | undefined): Attributes {
  if (span.kind === "request") {
    return {
      "http.request.method": "POST",
      "http.route": `/${span.path}/{topic}`,
      "http.response.status_code": span.code,
      "messaging.system": "riff",
      "messaging.operation.type": "send",
      ...(span.topic === "" ? {} : { "messaging.destination.name": span.topic }),
    };
  }
  return {
    "faas.name": span.function,
    "faas.version": String(span.revision),
    "faas.trigger": span.trigger,
    "faas.invocation_id": span.id,
    "faas.coldstart": span.cold,
    ...(node === undefined ? {} : { "faas.instance": `${node}/${span.replica}` }),
    "messaging.system": "riff",
    "messaging.operation.type": "process",
    "messaging.destination.name": span.topic,
    "messaging.destination.partition.id": String(span.partition),
    "messaging.consumer.group.name": span.function,
    "riff.offset": span.offset,
    "riff.attempt": span.attempt,
    "riff.queue_wait_ms": span.queueWaitMs,
    "riff.replica": span.replica,
    ...(span.key === undefined ? {} : { "riff.message.key": span.key }),
    ...(span.error === undefined ? {} : { "error.type": span.error.code }),
  };
}

/** Milliseconds (since the epoch, or a duration) as OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}
