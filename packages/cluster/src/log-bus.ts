import type { LogHistory, Logger } from "@riff/core";
import { headers as natsHeaders, RequestStrategy, type NatsConnection, type Subscription } from "nats";
import type { ClusterNames } from "./names.js";

/** This node's own function logs. */
export interface LocalLogs {
  read(fn: string, tail: number): string;
}

/** How long `read` waits for the other nodes' lines. */
const READ_WAIT_MS = 1500;
/** An entry's start: its ISO time (`2026-01-01T00:00:00.000Z `), as FunctionLogs writes it. */
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
const STAMP_LENGTH = 24;
/** The header naming the node that answered a read. */
const NODE_HEADER = "Riff-Node";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `riff logs` over a cluster: each node keeps its replicas' lines in its own home, answers
 * requests for a function's recent lines, and sends each new line on the function's subject,
 * so that any node can show the history (merged by time) and follow what comes, wherever the
 * replicas run.
 */
export class LogBus {
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: ClusterNames,
    private readonly local: LocalLogs,
    /** This node's name, on its answers. */
    private readonly node: string,
    /** The live nodes' names, this one included: `read` waits for each to answer, at most `READ_WAIT_MS`. */
    private readonly liveNodes: () => string[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.names.logsRead, {
      callback: (err, msg) => {
        if (err !== null || !msg.reply) return;
        try {
          const { fn, tail, from } = JSON.parse(decoder.decode(msg.data)) as { fn: string; tail: number; from?: string };
          // The asker has its own lines first-hand (see read).
          if (from === this.node) return;
          const h = natsHeaders();
          h.set(NODE_HEADER, this.node);
          msg.respond(encoder.encode(this.local.read(fn, tail)), { headers: h });
        } catch (e) {
          this.logger.warn("a request for log lines could not be answered", { err: String(e) });
        }
      },
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  /** Sends a line this node wrote to whoever follows the function, on any node. */
  publish(fn: string, text: string): void {
    if (this.nc.isClosed()) return;
    try {
      this.nc.publish(this.names.logLines(fn), encoder.encode(text));
    } catch {
      // Disconnected: followers elsewhere miss the line; it is in this node's file.
    }
  }

  /**
   * The last `tail` lines of `fn` from every node that answers, oldest first, and the live
   * nodes that did not answer within `READ_WAIT_MS` (cut off, paused, or too busy): a reader is
   * told their lines are missing rather than shown a history with holes.
   */
  async read(fn: string, tail: number): Promise<LogHistory> {
    if (tail <= 0) return { text: "" };
    const expected = this.liveNodes();
    // This node's own lines first-hand: they are in its home, NATS or no NATS.
    const entries: string[] = entriesOf(this.local.read(fn, tail));
    const answered = new Set<string>([this.node]);
    const others = expected.filter((n) => n !== this.node).length;
    if (others > 0) {
      try {
        // Every other live node answers (this one does not answer its own asking).
        const answers = await this.nc.requestMany(this.names.logsRead, encoder.encode(JSON.stringify({ fn, tail, from: this.node })), {
          strategy: RequestStrategy.Count,
          maxMessages: others,
          maxWait: READ_WAIT_MS,
        });
        for await (const m of answers) {
          const node = m.headers?.get(NODE_HEADER) ?? "";
          if (answered.has(node)) continue;
          answered.add(node);
          entries.push(...entriesOf(decoder.decode(m.data)));
        }
      } catch (err) {
        // NATS away: the others' lines are missing, and said to be.
        this.logger.debug("asking the other nodes for log lines failed", { fn, err: String(err) });
      }
    }
    const unanswered = expected.filter((n) => !answered.has(n));
    // A stable sort on the time alone: entries of one millisecond keep each node's order.
    const text = entries.sort((a, b) => compare(a.slice(0, STAMP_LENGTH), b.slice(0, STAMP_LENGTH))).slice(-tail).join("");
    return unanswered.length === 0 ? { text } : { text, unanswered };
  }

  /** Calls `listener` with each new line of `fn`, from every node; returns the unsubscribe function. */
  follow(fn: string, listener: (text: string) => void): () => void {
    const sub = this.nc.subscribe(this.names.logLines(fn), {
      callback: (err, msg) => {
        if (err === null) listener(decoder.decode(msg.data));
      },
    });
    return () => sub.unsubscribe();
  }
}

/**
 * One node's lines as entries, oldest first: a line that starts with a time starts an entry,
 * and the lines after it that do not (a stack, a compile error's source line, a blank line of
 * a multi-line message) belong to it, so that the merge keeps them together and in order.
 */
function entriesOf(text: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  for (const line of lines) {
    if (out.length === 0 || STAMP.test(line)) out.push(`${line}\n`);
    else out[out.length - 1] += `${line}\n`;
  }
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
