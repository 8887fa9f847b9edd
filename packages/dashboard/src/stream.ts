import type { ServerResponse } from "node:http";
import type { LogHistory, Logger } from "@riff/core";
import { replicaLabel } from "./format.js";
import { html } from "./html.js";
import { regionsFor, type TickData, type WatchSpec } from "./regions.js";
import type { SeriesSample } from "./series.js";

/** Log lines sent per flush at most; a flood beyond it is counted, not sent. */
export const MAX_LOG_LINES_PER_FLUSH = 200;
/** How often buffered log lines go out: fast enough to read as live, few enough events. */
const LOG_FLUSH_MS = 250;
/** Lines of history a new (or reconnected) stream starts its log pane with. */
const LOG_HISTORY = 200;
/** A comment every so often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** How soon a browser reconnects after the stream broke (EventSource's `retry:`). */
const RECONNECT_MS = 1000;

/** One log line as the `log` event carries it; the page prefixes it with `[label]`. */
export interface LogLineEvent {
  at: string;
  replica: string;
  label: string;
  stream: string;
  text: string;
}

/** Splits a line of the function log (`<iso> <replica> <stream>: <text>`). */
export function parseLogLine(line: string): LogLineEvent {
  const m = /^(\S+) (\S+) (\w+): (.*)$/.exec(line);
  if (m === null) return { at: "", replica: "", label: "", stream: "", text: line };
  const [, at = "", replica = "", stream = "", text = ""] = m;
  return { at, replica, label: replicaLabel(replica), stream, text };
}

/** Formats one server-sent event; every line of `data` gets its own `data:` field. */
export function sseEvent(name: string, data: string): string {
  return `event: ${name}\n${data.split("\n").map((l) => `data: ${l}`).join("\n")}\n\n`;
}

/**
 * One browser tab's stream: the regions of the view it watches (sent only when they changed,
 * at most once a tick), the function's 1 s metrics, and its log lines (capped per flush).
 */
export class LiveStream {
  private readonly last = new Map<string, string>();
  private logBuffer: string[] = [];
  private skipped = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private unfollow: (() => void) | undefined;
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    readonly spec: WatchSpec & { logs?: string | undefined },
    private readonly logger: Logger,
  ) {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.write(`retry: ${RECONNECT_MS}\n\n`);
    this.timers.push(setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS));
  }

  /** Starts the log pane: the recent history (replacing what the page shows), then new lines. */
  async followLogs(read: (fn: string, tail: number) => LogHistory | Promise<LogHistory>, follow: (fn: string, l: (text: string) => void) => () => void): Promise<void> {
    const fn = this.spec.logs;
    if (fn === undefined) return;
    this.unfollow = follow(fn, (text) => {
      this.logBuffer.push(...text.split("\n").filter((l) => l !== ""));
      // Keep only what the next flush may send; count the rest.
      if (this.logBuffer.length > MAX_LOG_LINES_PER_FLUSH) this.skipped += this.logBuffer.splice(0, this.logBuffer.length - MAX_LOG_LINES_PER_FLUSH).length;
    });
    const history = (await read(fn, LOG_HISTORY)).text.split("\n").filter((l) => l !== "");
    this.send("log", JSON.stringify({ reset: true, lines: history.map(parseLogLine), skipped: 0 }));
    this.timers.push(setInterval(() => this.flushLogs(), LOG_FLUSH_MS));
  }

  private flushLogs(): void {
    if (this.logBuffer.length === 0 && this.skipped === 0) return;
    this.send("log", JSON.stringify({ reset: false, lines: this.logBuffer.map(parseLogLine), skipped: this.skipped }));
    this.logBuffer = [];
    this.skipped = 0;
  }

  /** Sends what changed since the last tick; the first call sends everything. */
  async update(d: TickData, samples: ReadonlyMap<string, SeriesSample>): Promise<void> {
    try {
      for (const [event, markup] of await regionsFor(this.spec, d)) {
        if (this.last.get(event) === markup.text) continue;
        this.last.set(event, markup.text);
        this.send(event, markup.text);
      }
    } catch (err) {
      // A deleted function or topic: say so in the page rather than keep the stale view.
      const text = html`<p class="problem">${(err as Error).message}</p>`.text;
      const event = this.spec.watch === "function" ? "function" : "snapshot";
      if (this.last.get(event) !== text) {
        this.last.set(event, text);
        this.send(event, text);
      }
      this.logger.debug("dashboard stream region failed", { err: String(err) });
    }
    const sample = this.spec.fn === undefined ? undefined : samples.get(this.spec.fn);
    if (sample !== undefined) this.send("metrics", JSON.stringify(sample));
  }

  private send(event: string, data: string): void {
    if (!this.closed) this.res.write(sseEvent(event, data));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.unfollow?.();
    this.res.end();
  }
}
