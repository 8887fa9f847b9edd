import type { LimitOutcome } from "../limits.js";
import type { ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { connect, createServer } from "node:net";
import { limitHit, limitSettled, spawnInSandbox } from "../sandbox.js";
import { RiffError, silentLogger, type Headers, type Logger } from "@riff/core";
import { DEFAULT_START_TIMEOUT_MS, type InvokeResult, type Replica, type ReplicaOptions, type ReplicaState } from "../replica.js";
import { describeExit, LineTail, pipeToLogs } from "./process-output.js";


/** The reply header an HTTP function names its error's class with (`Riff-Error-Name: NonRetriableError`). */
export const ERROR_NAME_HEADER = "riff-error-name";

/** Options of an {@link HttpReplica}. */
export interface HttpReplicaOptions extends ReplicaOptions {
  /**
   * How long to wait between attempts to connect while the process starts.
   * @default DEFAULT_HTTP_PROBE_INTERVAL_MS
   */
  probeIntervalMs?: number;
  /**
   * The path each message is POSTed to.
   * @default "/"
   */
  path?: string;
}

/** @default 5 ms between connection attempts while an HTTP function starts: small, as it is cold-start latency. */
export const DEFAULT_HTTP_PROBE_INTERVAL_MS = 5;

/** Headers that describe one HTTP hop, not the message. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "date", "host"]);

/**
 * A function that is an HTTP server: riff picks a free port, starts the process with `PORT` set
 * to it, and calls it ready once the port accepts connections (raced against the process's exit
 * and the start timeout). Each message is a `POST /` with the message's headers; the response is
 * the reply, its headers the reply's headers. A non-2xx status is an error reply. stdout and
 * stderr go to the logs. This is what user-defined invokers that speak HTTP reuse.
 */
export class HttpReplica implements Replica {
  readonly id: string;
  state: ReplicaState = "starting";
  startedAt = 0;
  handled = 0;
  inFlight = 0;
  exited: Promise<string> = Promise.resolve("not started");
  port = 0;
  private child: ChildProcess | undefined;
  private readonly agent = new Agent({ keepAlive: true });
  private readonly tail = new LineTail();
  private readonly logger: Logger;
  private readonly drained: (() => void)[] = [];

  constructor(private readonly options: HttpReplicaOptions) {
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

  async start(): Promise<void> {
    this.startedAt = Date.now();
    const { launch, onLog } = this.options;
    this.port = await freePort();
    const child = spawnInSandbox(this.options.confinement, launch.command, launch.args, {
      cwd: launch.cwd,
      env: { ...launch.env, PORT: String(this.port) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    pipeToLogs(child.stdout, "stdout", this.id, onLog);
    pipeToLogs(child.stderr, "stderr", this.id, onLog, this.tail);
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => resolve(describeExit(code, signal)));
      child.once("error", (err) => resolve(err.message));
    });
    let gone: string | undefined;
    void this.exited.then((how) => {
      gone = how;
      this.state = this.state === "starting" ? "failed" : "stopped";
      this.agent.destroy();
    });
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const interval = this.options.probeIntervalMs ?? DEFAULT_HTTP_PROBE_INTERVAL_MS;
    for (;;) {
      if (gone !== undefined) {
        const stderr = this.tail.text();
        throw startupFailed(`the function process exited (${gone}) before it listened on port ${this.port}${stderr ? `:\n${stderr}` : ""}`);
      }
      if (await accepts(this.port)) break;
      if (Date.now() > deadline) {
        this.kill();
        throw startupFailed(`the function did not listen on port ${this.port} (env PORT) within ${timeoutMs} ms`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, interval)), this.exited]);
    }
    if (this.state === "starting") this.state = "ready";
  }

  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    if (this.state !== "ready") {
      return Promise.reject(new RiffError("RIFF_SHUTTING_DOWN", `replica ${this.id} is ${this.state}`));
    }
    this.inFlight++;
    return this.post(headers, payload).finally(() => {
      this.inFlight--;
      this.handled++;
      if (this.inFlight === 0) for (const done of this.drained.splice(0)) done();
    });
  }

  private post(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    return new Promise<InvokeResult>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: this.port,
          method: "POST",
          path: this.options.path ?? "/",
          agent: this.agent,
          headers: { ...headers, "content-length": String(payload.byteLength) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (err) => reject(new RiffError("RIFF_FUNCTION_ERROR", `reading the reply failed: ${err.message}`)));
          res.on("end", () => {
            const body = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              resolve({ headers: replyHeaders(res.headersDistinct), payload: body });
              return;
            }
            const text = body.toString("utf8").slice(0, 4096);
            // The error's class, as an ERROR frame's `name` says it: `NonRetriableError` skips the retries.
            const name = res.headers[ERROR_NAME_HEADER];
            reject(
              new RiffError("RIFF_FUNCTION_ERROR", `the function answered HTTP ${status}${text ? `: ${text}` : ""}`, {
                details: { status, ...(typeof name === "string" && name !== "" ? { name } : {}) },
              }),
            );
          });
        },
      );
      req.on("error", (err) => reject(new RiffError("RIFF_FUNCTION_ERROR", `calling the function failed: ${err.message}`)));
      req.end(payload);
    });
  }

  /** Waits for in-flight requests (up to `graceMs`), then SIGTERM, then SIGKILL after the rest of the grace. */
  async stop(graceMs: number): Promise<void> {
    if (this.child === undefined || this.state === "stopped" || this.state === "failed") return;
    this.state = "stopping";
    const timer = setTimeout(() => this.kill(), graceMs);
    if (this.inFlight > 0) await Promise.race([new Promise<void>((resolve) => this.drained.push(resolve)), this.exited]);
    this.child.kill("SIGTERM");
    await this.exited;
    clearTimeout(timer);
    this.state = "stopped";
  }

  kill(): void {
    if (this.child?.exitCode === null && this.child.signalCode === null) {
      this.logger.warn("killing the function process", { pid: this.child.pid });
      this.child.kill("SIGKILL");
    }
  }
}

function startupFailed(message: string): RiffError {
  return new RiffError("RIFF_FUNCTION_STARTUP_FAILED", message);
}

function replyHeaders(distinct: Record<string, string[] | undefined>): Headers {
  const out: Headers = {};
  for (const [name, values] of Object.entries(distinct)) {
    if (values !== undefined && !HOP_HEADERS.has(name)) out[name] = values;
  }
  return out;
}

/** A port nobody listens on now. Another process could take it before the function does; rare on loopback. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** True once something accepts a TCP connection on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
