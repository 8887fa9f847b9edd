import { isRecorded, RECORDS_TOPIC, type InvocationRecord, type Logger, type RecordFilter, type RecordReader, type Span, type TelemetrySink } from "@riff/core";
import type { Broker, PublishMessage } from "@riff/broker";
import { ensureOwnTopic } from "./own-topics.js";

/** Records are written this long after the first of a batch at the latest. */
const FLUSH_MS = 100;
/** Most records in one stored message: one write per batch, not per invocation. */
const PER_MESSAGE = 128;
/** Storage per record kept, for the topic's byte bound (failed payloads are larger; they count too). */
const BYTES_PER_RECORD = 4096;
/** Messages read per step when scanning back from the newest. */
const SCAN_STEP = 64;
/** @default 50 records per page of `riff invocations`. */
export const DEFAULT_RECORDS_LIMIT = 50;
/** The most records one page may ask for. */
export const MAX_RECORDS_LIMIT = 1000;

/** A stored message: a JSON array of up to {@link PER_MESSAGE} spans, oldest first. */
const JSON_HEADERS = { "content-type": ["application/json"] };

/**
 * riff's invocation records and trace spans, kept in riff's own topic `riff-invocations` on
 * whatever broker the daemon runs on: in the home's log alone, on NATS in a cluster, where
 * every node writes and any node reads them all. Spans are batched (up to {@link PER_MESSAGE}
 * per stored message, written within {@link FLUSH_MS}) so that recording costs one broker
 * write per batch. Bounded by count (readers see only the newest `max`, and the topic keeps
 * about `max` x 4 KiB) and by age (the topic's retention, and readers skip older ones).
 *
 * Records are telemetry, not data: a batch that cannot be written (the broker away) is
 * dropped and logged, and a crash loses at most the last {@link FLUSH_MS}.
 */
export class RecordStore implements RecordReader {
  /** Spans to write, each as its JSON. */
  #pending: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dropped = 0;

  constructor(
    private readonly broker: Broker,
    private readonly o: { max: number; maxAgeMs: number; logger: Logger },
  ) {}

  /** Makes the topic (or sets its bounds, when they changed). */
  async start(): Promise<void> {
    const bounds = { retentionMs: this.o.maxAgeMs, retentionBytes: this.o.max * BYTES_PER_RECORD };
    const info = await ensureOwnTopic(this.broker, RECORDS_TOPIC, { partitions: 1, ...bounds }, this.o.logger);
    if (info.retentionMs !== bounds.retentionMs || info.retentionBytes !== bounds.retentionBytes) await this.broker.configureTopic(RECORDS_TOPIC, bounds);
  }

  /** Writes what is pending; later spans go to the stopped broker no more. */
  async stop(): Promise<void> {
    await this.flush();
  }

  /** What the daemon subscribes to its telemetry. */
  sink(): Partial<TelemetrySink> {
    return { invocation: (r) => this.add(r), request: (s) => this.add(s) };
  }

  add(span: Span): void {
    // A trace sampled out (over --records-rate) leaves only its failures.
    if (!isRecorded(span)) return;
    // Serialised now, and the span let go: kept until the flush, the span objects themselves
    // made the daemon's young-generation collections 40-75 % slower and its full ones more
    // frequent under /messages (docs/performance.md, "A fifth look"). Their JSON does not.
    this.#pending.push(JSON.stringify(span));
    if (this.#pending.length >= PER_MESSAGE * 4) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS).unref();
  }

  /** Writes the pending spans; resolves once they (and every earlier batch) are stored. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const spans = this.#pending;
    if (spans.length > 0) {
      this.#pending = [];
      const messages: PublishMessage[] = [];
      for (let i = 0; i < spans.length; i += PER_MESSAGE) messages.push({ headers: JSON_HEADERS, payload: Buffer.from(`[${spans.slice(i, i + PER_MESSAGE).join(",")}]`) });
      this.#writing = this.#writing.then(() => this.write(messages, spans.length));
    }
    return this.#writing;
  }

  private async write(messages: PublishMessage[], count: number): Promise<void> {
    try {
      await this.broker.publishBatch(RECORDS_TOPIC, messages);
      if (this.#dropped > 0) this.o.logger.info("invocation records are written again", { dropped: this.#dropped });
      this.#dropped = 0;
    } catch (err) {
      if (this.#dropped === 0) this.o.logger.warn("invocation records could not be written; they are dropped until the broker takes them again", { err: String(err) });
      this.#dropped += count;
    }
  }

  async list(filter: RecordFilter): Promise<InvocationRecord[]> {
    const limit = Math.min(filter.limit ?? DEFAULT_RECORDS_LIMIT, MAX_RECORDS_LIMIT);
    const found: InvocationRecord[] = [];
    await this.scan((span) => {
      if (span.kind !== "invocation") return true;
      if (filter.function !== undefined && span.function !== filter.function) return true;
      if (filter.status !== undefined && span.status !== filter.status) return true;
      if (filter.before !== undefined && span.startedAt >= filter.before) return true;
      found.push(span);
      return found.length < limit;
    });
    // Batches are written in the order they filled, nearly the order runs started.
    return found.sort((a, b) => b.startedAt - a.startedAt);
  }

  async get(id: string): Promise<Span | undefined> {
    let found: Span | undefined;
    await this.scan((span) => {
      if (span.id === id) found = span;
      return found === undefined;
    });
    return found;
  }

  async trace(traceId: string): Promise<Span[]> {
    const spans: Span[] = [];
    await this.scan((span) => {
      if (span.traceId === traceId) spans.push(span);
      return true;
    });
    return spans.sort((a, b) => a.startedAt - b.startedAt);
  }

  /**
   * Visits the kept spans newest first until `visit` returns false: this node's pending ones
   * are written first, so what finished here is always there to read.
   */
  private async scan(visit: (span: Span) => boolean): Promise<void> {
    await this.flush();
    const [offsets] = await this.broker.endOffsets(RECORDS_TOPIC);
    if (offsets === undefined) return;
    const oldest = Date.now() - this.o.maxAgeMs;
    let seen = 0;
    let to = offsets.end;
    while (to > offsets.start && seen < this.o.max) {
      const from = Math.max(offsets.start, to - SCAN_STEP);
      const messages = await this.broker.read(RECORDS_TOPIC, 0, from, to - from);
      for (let m = messages.length - 1; m >= 0; m--) {
        const spans = parseBatch((messages[m] as { payload: Uint8Array }).payload);
        for (let l = spans.length - 1; l >= 0; l--) {
          if (++seen > this.o.max) return;
          const span = spans[l];
          if (!isSpan(span) || span.startedAt < oldest) continue;
          if (!visit(span)) return;
        }
      }
      to = from;
    }
  }
}

/** A stored batch; one that is not a JSON array (damaged) reads as empty. */
function parseBatch(payload: Uint8Array): unknown[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload).toString("utf8"));
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

/** A span as riff writes them; anything else (written by a newer riff, or damaged) is skipped. */
function isSpan(value: unknown): value is Span {
  const span = value as Partial<Span> | null;
  return typeof span === "object" && span !== null && typeof span.id === "string" && typeof span.traceId === "string" && typeof span.startedAt === "number";
}
