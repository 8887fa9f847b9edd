import type { Headers, Logger } from "@riff/core";
import type { LimitOutcome } from "./limits.js";
import type { Confinement } from "./sandbox.js";

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

/** What every replica is given. */
export interface ReplicaOptions {
  id: string;
  launch: LaunchSpec;
  onLog?: (line: LogLine) => void;
  logger?: Logger;
  /** @default DEFAULT_START_TIMEOUT_MS */
  startTimeoutMs?: number;
  /** How the process runs: sandbox, limits, network; undefined: a plain process. */
  confinement?: Confinement | undefined;
}

/** A reply from the function. */
export interface InvokeResult {
  headers: Headers;
  payload: Uint8Array;
}

/** `starting` -> `ready` -> `stopping` -> `stopped`; `failed` when it could not start. */
export type ReplicaState = "starting" | "ready" | "stopping" | "stopped" | "failed";

/** Callbacks of an open stream (stream functions only). */
export interface StreamListener {
  output(headers: Headers, payload: Uint8Array): void;
  /** The function finished the stream, or failed it (`error`). */
  end(error?: Error): void;
}

/** The daemon's end of one open stream. */
export interface StreamHandle {
  send(headers: Headers, payload: Uint8Array): void;
  /** No more input. */
  end(): void;
}

/**
 * One running copy of a function, whatever the protocol behind it (frames on fd 3 or stdio, a
 * process per message, one line per message, HTTP). The sidecar sees only this.
 */
export interface Replica {
  readonly id: string;
  readonly state: ReplicaState;
  readonly pid: number | undefined;
  readonly startedAt: number;
  /** Messages answered so far. */
  readonly handled: number;
  /** Messages sent and not yet answered. */
  readonly inFlight: number;
  /** What the function is, as it reported when ready: one reply per message (the default), or a stream. */
  readonly shape?: "request-reply" | "stream";
  /** Opens a stream on a stream function; undefined for replicas that cannot stream. */
  openStream?(headers: Headers, listener: StreamListener): StreamHandle;
  /** Resolves with how the process ended (exit code or signal). */
  readonly exited: Promise<string>;
  /** Resolves once the function is loaded; rejects with the runtime's own message. */
  start(): Promise<void>;
  /** Sends one message; rejects with a RiffError carrying the function's error. */
  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult>;
  /** Finishes what it holds, then exits; killed after `graceMs`. */
  stop(graceMs: number): Promise<void>;
  /** SIGKILL. */
  kill(): void;
  /** Whether its limits struck: the memory limit killed it, or the process limit refused a fork. */
  limitHit?(): LimitOutcome;
  /** Resolves once {@link limitHit} can be trusted after the process died. */
  limitSettled?(): Promise<void>;
}
