import type { LimitOutcome } from "./limits.js";
import type { ChildProcess } from "node:child_process";
import { type Channel, channelOf } from "./channel.js";
import { isErrorCode, RiffError, type Headers, type Logger, silentLogger } from "@riff/core";
import { decodeError, FrameParser, FrameType, type Frame } from "@riff/protocol";
import { frameBytes } from "./frame-bytes.js";
import {
  DEFAULT_START_TIMEOUT_MS,
  type InvokeResult,
  type Replica,
  type ReplicaOptions,
  type ReplicaState,
  type StreamHandle,
  type StreamListener,
} from "./replica.js";
import { LineTail, pipeToLogs } from "./replicas/process-output.js";
import { limitHit, limitSettled, spawnInSandbox } from "./sandbox.js";
import type { PooledProcess } from "./warm-pool.js";

/** Options of a {@link FramedReplica}. */
export interface FramedReplicaOptions extends ReplicaOptions {
  /**
   * `fd3`: frames on a socketpair at fd 3, stdout and stderr are logs (the default).
   * `stdio`: frames on stdin/stdout, for runtimes that cannot open fd 3 (the JVM); stderr is logs.
   * @default "fd3"
   */
  transport?: "fd3" | "stdio";
  /** A pre-started process from a {@link WarmPool} to load the function into, instead of spawning. */
  adopt?: PooledProcess;
}

interface Pending {
  resolve(result: InvokeResult): void;
  reject(err: RiffError): void;
}


/**
 * One function process and the framed channel to it (fd 3, a Unix socketpair). Requests are
 * multiplexed by id; every pending request is rejected at once if the process dies.
 */
export class FramedReplica implements Replica {
  readonly id: string;
  state: ReplicaState = "starting";
  shape: "request-reply" | "stream" = "request-reply";
  private readonly streams = new Map<number, StreamListener>();
  startedAt = 0;
  handled = 0;
  private child: ChildProcess | undefined;
  private channel: Channel | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private corked = false;
  private readonly stderrTail = new LineTail();
  private readonly logger: Logger;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<string> = Promise.resolve("not started");

  constructor(private readonly options: FramedReplicaOptions) {
    this.id = options.id;
    this.logger = (options.logger ?? silentLogger).child({ replica: options.id });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  limitSettled(): Promise<void> {
    return limitSettled(this.child);
  }

  limitHit(): LimitOutcome {
    return limitHit(this.child);
  }

  /** Messages sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Starts the process; resolves when the function is loaded, rejects with its own message. */
  start(): Promise<void> {
    const { launch } = this.options;
    this.startedAt = Date.now();
    const stdio = this.options.transport === "stdio";
    const adopted = this.options.adopt;
    const child =
      adopted?.child ??
      spawnInSandbox(this.options.confinement, launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        stdio: stdio ? ["pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe"],
      });
    this.child = child;
    this.channel = adopted?.channel ?? channelOf(child, stdio ? "stdio" : "fd3");
    if (!stdio) pipeToLogs(child.stdout, "stdout", this.id, this.options.onLog);
    pipeToLogs(child.stderr, "stderr", this.id, this.options.onLog, this.stderrTail);
    // A warm-pool process is already running: it becomes this function on LOAD.
    if (adopted !== undefined) {
      const env = new TextEncoder().encode(JSON.stringify({ ...launch.env, ...this.options.confinement?.env }));
      // riff-exec: the program a pooled exec stub becomes (compiled functions); the runtimes' shims load the function themselves.
      this.channel.write(frameBytes({ type: FrameType.LOAD, id: 0, headers: { "riff-dir": [launch.cwd], "riff-exec": [launch.command] }, payload: env }));
    }
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve(signal ?? `exit code ${String(code)}`));
      child.once("error", (err) => resolve(err.message));
    });
    return new Promise<void>((resolve, reject) => {
      const timeout = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
      const timer = setTimeout(() => {
        fail(`did not report ready within ${timeout} ms`);
        this.kill();
      }, timeout);
      const fail = (message: string) => {
        clearTimeout(timer);
        if (this.state === "starting") this.state = "failed";
        reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", message, { details: { replica: this.id } }));
      };
      const parser = new FrameParser();
      this.channel?.on("data", (chunk: Buffer) => {
        let frames: Frame[];
        try {
          frames = parser.push(chunk);
        } catch (err) {
          // The replica broke the protocol (say, a runtime that printed to the frame stream):
          // it is killed, never the daemon.
          const message = `the function process broke the frame protocol: ${(err as Error).message}; a runtime writing to its stdout on the stdio transport does this`;
          this.options.onLog?.({ replica: this.id, stream: "stderr", line: `riff: ${message}` });
          fail(message);
          this.kill();
          return;
        }
        for (const frame of frames) {
          if (frame.type === FrameType.READY) {
            clearTimeout(timer);
            if (frame.headers["riff-shape"]?.[0] === "stream") this.shape = "stream";
            if (this.state === "starting") this.state = "ready";
            resolve();
          } else if (frame.type === FrameType.INIT_FAILED) {
            const err = decodeError(frame.payload);
            fail(err.stack ?? err.message);
          } else this.onFrame(frame);
        }
      });
      this.channel?.on("error", () => {});
      void this.exited.then((how) => {
        this.state = this.state === "failed" ? "failed" : "stopped";
        const tail = this.stderrTail.text();
        fail(`the function process exited (${how}) before it was ready${tail ? `:\n${tail}` : ""}`);
        this.rejectAll(`the function process exited (${how})${tail ? `: ${this.stderrTail.last ?? ""}` : ""}`);
      });
    });
  }

  /** Sends one message to the function. */
  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    if (this.state !== "ready" || this.channel === undefined) {
      return Promise.reject(new RiffError("RIFF_SHUTTING_DOWN", `replica ${this.id} is ${this.state}`));
    }
    const id = this.nextId++;
    if (this.nextId > 0x7fffffff) this.nextId = 1;
    const channel = this.channel;
    return new Promise<InvokeResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // Frames written in one tick go out in one write.
      if (!this.corked) {
        this.corked = true;
        channel.cork();
        process.nextTick(() => {
          this.corked = false;
          channel.uncork();
        });
      }
      channel.write(frameBytes({ type: FrameType.INVOKE, id, headers, payload }));
    });
  }

  /** Asks the function to finish what it holds and exit; kills it after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.child === undefined || this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    this.channel?.write(frameBytes({ type: FrameType.SHUTDOWN, id: 0, headers: {}, payload: new Uint8Array(0) }));
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.state = "stopped";
  }

  /** SIGKILL, for a replica that does not stop by itself. */
  kill(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  /** Opens a stream: inputs go out as STREAM_INPUT, outputs come back to `listener`. */
  openStream(headers: Headers, listener: StreamListener): StreamHandle {
    const id = this.nextId++;
    this.streams.set(id, listener);
    const write = (type: number, h: Headers, payload: Uint8Array) => {
      if (this.state === "ready" || this.state === "stopping") this.channel?.write(frameBytes({ type, id, headers: h, payload }));
    };
    write(FrameType.STREAM_OPEN, headers, new Uint8Array(0));
    return {
      send: (h, payload) => {
        // A stream's inputs are what it handled (`riff describe`, the autoscaler's rates).
        this.handled++;
        write(FrameType.STREAM_INPUT, h, payload);
      },
      end: () => write(FrameType.STREAM_END, {}, new Uint8Array(0)),
    };
  }

  private onFrame(frame: Frame): void {
    const stream = this.streams.get(frame.id);
    if (stream !== undefined) {
      if (frame.type === FrameType.STREAM_OUTPUT) stream.output(frame.headers, frame.payload);
      else {
        this.streams.delete(frame.id);
        if (frame.type === FrameType.ERROR) {
          const wire = decodeError(frame.payload);
          stream.end(new RiffError("RIFF_FUNCTION_ERROR", wire.message, { details: { stack: wire.stack } }));
        } else stream.end();
      }
      return;
    }
    const pending = this.pending.get(frame.id);
    if (pending === undefined) {
      this.logger.warn("reply for an unknown request", { id: frame.id, type: frame.type });
      return;
    }
    this.pending.delete(frame.id);
    this.handled++;
    if (frame.type === FrameType.REPLY) pending.resolve({ headers: frame.headers, payload: frame.payload });
    else if (frame.type === FrameType.ERROR) {
      const wire = decodeError(frame.payload);
      const code = isErrorCode(wire.code) ? wire.code : "RIFF_FUNCTION_ERROR";
      pending.reject(new RiffError(code, wire.message, { details: { name: wire.name, stack: wire.stack } }));
    } else {
      pending.reject(new RiffError("RIFF_PROTOCOL_ERROR", `unexpected frame type ${frame.type} from the function`));
    }
  }

  private rejectAll(message: string): void {
    for (const s of this.streams.values()) s.end(new RiffError("RIFF_FUNCTION_ERROR", message));
    this.streams.clear();
    // Lost, not failed: the runner delivers these messages again.
    for (const p of this.pending.values()) p.reject(new RiffError("RIFF_REPLICA_LOST", message));
    this.pending.clear();
  }


}
