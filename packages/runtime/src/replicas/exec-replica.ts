import type { ChildProcess, ChildProcessWithoutNullStreams } from "node:child_process";
import type { LimitOutcome } from "../limits.js";
import { limitHit, limitSettled, spawnInSandbox } from "../sandbox.js";
import { RiffError, silentLogger, type Headers, type Logger } from "@riff/core";
import { DEFAULT_MAX_FRAME_BYTES } from "@riff/protocol";
import type { InvokeResult, Replica, ReplicaOptions, ReplicaState } from "../replica.js";
import { admitMessage } from "./content-check.js";
import { findExecutable } from "./find-executable.js";
import { describeExit, LineTail, pipeToLogs } from "./process-output.js";
import { NON_RETRIABLE_EXIT_CODE, NON_RETRIABLE_NAME } from "../retries.js";

/** Options of an {@link ExecReplica}. */
export interface ExecReplicaOptions extends ReplicaOptions {
  /**
   * The most bytes a reply (the process's stdout) may have; more is an error.
   * @default DEFAULT_MAX_FRAME_BYTES (64 MiB), as for framed replicas
   */
  maxReplyBytes?: number;
}

/**
 * A process per message, as Project riff's command invoker ran them: the payload goes to the
 * command's stdin, its stdout is the reply, its stderr goes to the logs, and a non-zero exit is
 * an error reply carrying the exit code and the tail of stderr (riff dropped those silently).
 *
 * Nothing stays running between messages, so a "replica" is only a permit to spawn: `start()`
 * checks that the command exists and is executable, and a cold reply costs only the command's
 * own start. `launch.command` is spawned directly, with no shell and no shim in between.
 */
export class ExecReplica implements Replica {
  readonly id: string;
  state: ReplicaState = "starting";
  startedAt = 0;
  handled = 0;
  inFlight = 0;
  readonly exited: Promise<string>;
  private markExited: (how: string) => void = () => {};
  private readonly running = new Set<ChildProcess>();
  private readonly drained: (() => void)[] = [];
  private lastPid: number | undefined;
  private lastChild: ChildProcess | undefined;
  private executable = "";
  private readonly logger: Logger;

  constructor(private readonly options: ExecReplicaOptions) {
    this.id = options.id;
    this.logger = (options.logger ?? silentLogger).child({ replica: options.id });
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  /** The pid of the newest process, while one has run. */
  get pid(): number | undefined {
    return this.lastPid;
  }

  /** A process per message: the last one's limits say. */
  limitSettled(): Promise<void> {
    return limitSettled(this.lastChild);
  }

  limitHit(): LimitOutcome {
    return limitHit(this.lastChild);
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    const { launch } = this.options;
    try {
      this.executable = await findExecutable(launch.command, launch.cwd, launch.env["PATH"]);
    } catch (err) {
      this.state = "failed";
      this.markExited("not started");
      throw err;
    }
    if (this.state === "starting") this.state = "ready";
  }

  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    let contentType: string;
    try {
      contentType = admitMessage(this, headers);
    } catch (err) {
      return Promise.reject(err);
    }
    this.inFlight++;
    return this.run(payload)
      .then((stdout) => ({ headers: { "content-type": [contentType] }, payload: stdout }))
      .finally(() => {
        this.inFlight--;
        this.handled++;
        if (this.inFlight === 0) for (const done of this.drained.splice(0)) done();
      });
  }

  private run(payload: Uint8Array): Promise<Uint8Array> {
    const { launch, onLog } = this.options;
    const max = this.options.maxReplyBytes ?? DEFAULT_MAX_FRAME_BYTES;
    const child = spawnInSandbox<ChildProcessWithoutNullStreams>(this.options.confinement, this.executable, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.running.add(child);
    this.lastPid = child.pid;
    this.lastChild = child;
    const tail = new LineTail();
    pipeToLogs(child.stderr, "stderr", this.id, onLog, tail);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    child.stdout.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        tooLarge = true;
        child.kill("SIGKILL");
      } else chunks.push(chunk);
    });
    // A command that does not read its input closes the pipe early: not an error of ours.
    child.stdin.on("error", () => {});
    child.stdin.end(payload);
    return new Promise<Uint8Array>((resolve, reject) => {
      child.once("error", (err) => {
        this.running.delete(child);
        reject(new RiffError("RIFF_FUNCTION_ERROR", `cannot run ${this.executable}: ${err.message}`));
      });
      // 'close', not 'exit': stdout and stderr are complete only then.
      child.once("close", (code, signal) => {
        this.running.delete(child);
        if (tooLarge) {
          reject(new RiffError("RIFF_FUNCTION_ERROR", `the command wrote more than ${max} bytes; the reply limit is ${max}`));
        } else if (code === 0) {
          resolve(Buffer.concat(chunks, size));
        } else {
          const stderr = tail.text();
          const how = describeExit(code, signal);
          reject(
            new RiffError("RIFF_FUNCTION_ERROR", `the command failed (${how})${stderr ? `: ${stderr}` : ""}`, {
              details: { name: code === NON_RETRIABLE_EXIT_CODE ? NON_RETRIABLE_NAME : "CommandFailed", exitCode: code, signal, stack: stderr },
            }),
          );
        }
      });
    });
  }

  /** Lets running processes finish, killing them after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    if (this.inFlight > 0) {
      const timer = setTimeout(() => this.kill(), graceMs);
      await new Promise<void>((resolve) => this.drained.push(resolve));
      clearTimeout(timer);
    }
    this.state = "stopped";
    this.markExited("stopped");
  }

  kill(): void {
    for (const child of this.running) {
      this.logger.warn("killing a command that did not finish", { pid: child.pid });
      child.kill("SIGKILL");
    }
  }
}
