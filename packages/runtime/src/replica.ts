import { spawn, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { isErrorCode, RiffError, type Headers, type Logger, silentLogger } from "@riff/core";
import { decodeError, encodeFrame, FrameParser, FrameType, type Frame } from "@riff/protocol";

/** How to start one replica process. */
export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** One line a replica wrote to stdout or stderr. */
export interface LogLine {
  replica: string;
  stream: "stdout" | "stderr";
  line: string;
}

/** @default 30000 ms to load the function and report READY. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** Options of a {@link Replica}. */
export interface ReplicaOptions {
  id: string;
  launch: LaunchSpec;
  onLog?: (line: LogLine) => void;
  logger?: Logger;
  /** @default DEFAULT_START_TIMEOUT_MS */
  startTimeoutMs?: number;
}

/** A reply from the function. */
export interface InvokeResult {
  headers: Headers;
  payload: Uint8Array;
}

/** `starting` -> `ready` -> `stopping` -> `stopped`; `failed` when it could not start. */
export type ReplicaState = "starting" | "ready" | "stopping" | "stopped" | "failed";

interface Pending {
  resolve(result: InvokeResult): void;
  reject(err: RiffError): void;
}

const STDERR_TAIL_LINES = 20;

/**
 * One function process and the framed channel to it (fd 3, a Unix socketpair). Requests are
 * multiplexed by id; every pending request is rejected at once if the process dies.
 */
export class Replica {
  readonly id: string;
  state: ReplicaState = "starting";
  startedAt = 0;
  handled = 0;
  private child: ChildProcess | undefined;
  private channel: Socket | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private corked = false;
  private readonly stderrTail: string[] = [];
  private readonly logger: Logger;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<string> = Promise.resolve("not started");

  constructor(private readonly options: ReplicaOptions) {
    this.id = options.id;
    this.logger = (options.logger ?? silentLogger).child({ replica: options.id });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Messages sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Starts the process; resolves when the function is loaded, rejects with its own message. */
  start(): Promise<void> {
    const { launch } = this.options;
    this.startedAt = Date.now();
    const child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    this.child = child;
    this.channel = child.stdio[3] as Socket;
    this.pipeLogs(child);
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
        for (const frame of parser.push(chunk)) {
          if (frame.type === FrameType.READY) {
            clearTimeout(timer);
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
        const tail = this.stderrTail.join("\n");
        fail(`the function process exited (${how}) before it was ready${tail ? `:\n${tail}` : ""}`);
        this.rejectAll(`the function process exited (${how})${tail ? `: ${this.stderrTail.at(-1)}` : ""}`);
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
      channel.write(encodeFrame({ type: FrameType.INVOKE, id, headers, payload }));
    });
  }

  /** Asks the function to finish what it holds and exit; kills it after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.child === undefined || this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    this.channel?.write(encodeFrame({ type: FrameType.SHUTDOWN, id: 0, headers: {}, payload: new Uint8Array(0) }));
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.state = "stopped";
  }

  /** SIGKILL, for a replica that does not stop by itself. */
  kill(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private onFrame(frame: Frame): void {
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
    for (const p of this.pending.values()) p.reject(new RiffError("RIFF_FUNCTION_ERROR", message));
    this.pending.clear();
  }

  private pipeLogs(child: ChildProcess): void {
    for (const stream of ["stdout", "stderr"] as const) {
      let rest = "";
      child[stream]?.setEncoding("utf8");
      child[stream]?.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) this.emitLog(stream, line);
      });
      child[stream]?.on("end", () => {
        if (rest !== "") this.emitLog(stream, rest);
      });
    }
  }

  private emitLog(stream: "stdout" | "stderr", line: string): void {
    if (stream === "stderr") {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    }
    this.options.onLog?.({ replica: this.id, stream, line });
  }
}
