import type { LimitOutcome } from "../limits.js";
import type { ChildProcess, ChildProcessWithoutNullStreams } from "node:child_process";
import { limitHit, limitSettled, spawnInSandbox } from "../sandbox.js";
import { RiffError, silentLogger, type Headers, type Logger } from "@riff/core";
import type { InvokeResult, Replica, ReplicaOptions, ReplicaState } from "../replica.js";
import { admitMessage } from "./content-check.js";
import { findExecutable } from "./find-executable.js";
import { describeExit, forEachLine, LineTail, pipeToLogs } from "./process-output.js";

interface Waiter {
  contentType: string;
  resolve(result: InvokeResult): void;
  reject(err: RiffError): void;
}

const NEWLINE = 0x0a;

/**
 * One long-lived process that reads one message per line on stdin and writes one reply per line
 * on stdout, in order: `while read line; do ...; done`, `sed -u`, `python3 -u`. Much cheaper per
 * message than a process each ({@link ExecReplica}), for commands that can loop.
 *
 * Replies are matched to messages by order, so several may be in flight at once (a pipeline).
 * A payload may not contain a newline (one trailing newline is dropped). The process must flush
 * each reply line; a buffered stdout (C stdio on a pipe) holds replies back until it fills.
 * There is no error reply in this mode: if the process exits, the messages in flight fail with
 * its exit status and the tail of its stderr, and the next message starts a new one.
 */
export class LineReplica implements Replica {
  readonly id: string;
  state: ReplicaState = "starting";
  startedAt = 0;
  handled = 0;
  exited: Promise<string> = Promise.resolve("not started");
  private child: ChildProcess | undefined;
  private readonly waiting: Waiter[] = [];
  private readonly tail = new LineTail();
  private readonly logger: Logger;

  constructor(private readonly options: ReplicaOptions) {
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

  get inFlight(): number {
    return this.waiting.length;
  }

  /** Spawns the process; ready once it runs (there is no readiness signal in this mode). */
  async start(): Promise<void> {
    this.startedAt = Date.now();
    const { launch, onLog } = this.options;
    let executable: string;
    try {
      executable = await findExecutable(launch.command, launch.cwd, launch.env["PATH"]);
    } catch (err) {
      this.state = "failed";
      throw err;
    }
    const child = spawnInSandbox<ChildProcessWithoutNullStreams>(this.options.confinement, executable, launch.args, { cwd: launch.cwd, env: launch.env, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    pipeToLogs(child.stderr, "stderr", this.id, onLog, this.tail);
    forEachLine(child.stdout, (line) => this.onLine(line));
    child.stdin.on("error", (err) => this.logger.warn("stdin of the command failed", { err: err.message }));
    this.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => resolve(describeExit(code, signal)));
      child.once("error", (err) => resolve(err.message));
    });
    void this.exited.then((how) => {
      const wasStarting = this.state === "starting";
      this.state = wasStarting ? "failed" : "stopped";
      const stderr = this.tail.text();
      const message = `the command exited (${how})${stderr ? `: ${stderr}` : ""}`;
      for (const w of this.waiting.splice(0)) w.reject(new RiffError("RIFF_FUNCTION_ERROR", message, { details: { stack: stderr } }));
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err) => reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `cannot run ${executable}: ${err.message}`)));
    });
    if (this.state === "starting") this.state = "ready";
  }

  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    let contentType: string;
    try {
      contentType = admitMessage(this, headers);
    } catch (err) {
      return Promise.reject(err);
    }
    const stdin = this.child?.stdin;
    if (stdin === undefined || stdin === null) return Promise.reject(new RiffError("RIFF_SHUTTING_DOWN", `replica ${this.id} has no stdin`));
    const body = payload.at(-1) === NEWLINE ? payload.subarray(0, -1) : payload;
    if (body.includes(NEWLINE)) {
      return Promise.reject(
        new RiffError("RIFF_INVALID_ARGUMENT", "the payload has a newline; a line-mode command takes one line per message", {
          hint: "send one line, or deploy the function with the `command` invoker (a process per message)",
        }),
      );
    }
    return new Promise<InvokeResult>((resolve, reject) => {
      this.waiting.push({ contentType, resolve, reject });
      stdin.write(Buffer.concat([body, Buffer.from("\n")]));
    });
  }

  private onLine(line: string): void {
    const waiter = this.waiting.shift();
    if (waiter === undefined) {
      // Output nobody asked for: keep it visible instead of pairing it with the next message.
      this.options.onLog?.({ replica: this.id, stream: "stdout", line });
      return;
    }
    this.handled++;
    waiter.resolve({ headers: { "content-type": [waiter.contentType] }, payload: Buffer.from(line) });
  }

  /** Closes stdin, so the loop ends after the messages it holds; killed after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.child === undefined || this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    this.child.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.state = "stopped";
  }

  kill(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
