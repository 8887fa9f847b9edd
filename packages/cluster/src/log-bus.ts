import type { Logger } from "@riff/core";
import { RequestStrategy, type NatsConnection, type Subscription } from "nats";
import type { ClusterNames } from "./names.js";

/** This node's own function logs. */
export interface LocalLogs {
  read(fn: string, tail: number): string;
}

/** How long `read` waits for the other nodes' lines. */
const READ_WAIT_MS = 1500;
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
    /** How many nodes are alive now: `read` waits for that many answers at most. */
    private readonly liveNodes: () => number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(this.names.logsRead, {
      callback: (err, msg) => {
        if (err !== null || !msg.reply) return;
        try {
          const { fn, tail } = JSON.parse(decoder.decode(msg.data)) as { fn: string; tail: number };
          msg.respond(encoder.encode(this.local.read(fn, tail)));
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

  /** The last `tail` lines of `fn` from every node that answers, oldest first. */
  async read(fn: string, tail: number): Promise<string> {
    if (tail <= 0) return "";
    const lines: string[] = [];
    const answers = await this.nc.requestMany(this.names.logsRead, encoder.encode(JSON.stringify({ fn, tail })), {
      strategy: RequestStrategy.Count,
      maxMessages: Math.max(1, this.liveNodes()),
      maxWait: READ_WAIT_MS,
    });
    for await (const m of answers) {
      for (const line of decoder.decode(m.data).split("\n")) if (line !== "") lines.push(`${line}\n`);
    }
    // Every line starts with its ISO time, so text order is time order.
    return lines.sort().slice(-tail).join("");
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
