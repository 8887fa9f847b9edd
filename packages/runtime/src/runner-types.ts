import type { Logger, TelemetrySink } from "@riff/core";
import type { Broker } from "@riff/broker";
import type { Invoker, PreparedFunction } from "./invoker.js";
import type { ReplySink } from "./message-outlets.js";
import type { LogLine } from "./replica.js";
import type { CallerRegistry } from "./callers.js";
import type { Limiter } from "./limits.js";
import type { Sandbox } from "./sandbox.js";

/** What a runner is given; the daemon builds one per deployed function. */
export interface FunctionRunnerOptions {
  name: string;
  /** Topics the function reads; each message keeps its own topic's order. */
  inputs: string[];
  output: string | undefined;
  /** Where messages riff gives up on go (`<name>-dead-letters` unless the spec names another). */
  deadLetter: string;
  /** Runs again of a message the function failed on; @default DEFAULT_RETRIES (functions stored before it have none). */
  retries?: number | undefined;
  concurrency: number;
  /** Longest time for one message; @default DEFAULT_FUNCTION_TIMEOUT_MS (functions stored before it have none). */
  timeoutMs?: number | undefined;
  /** Keep each partition's order (the default) or not (`ordering: none`). */
  ordered: boolean;
  /** `/requests` callers get the reply of the pipeline's end, not this function's. */
  replyFromEnd: boolean;
  /**
   * Whether a function reads the output topic now; when none does, this function is the end
   * of the pipeline and answers callers who asked for the end's reply. Default: yes if any output.
   */
  outputHasReaders?: () => boolean;
  /** A message that has passed through this many functions goes to the dead-letter topic. */
  maxHops: number;
  code: PreparedFunction;
  invoker: Invoker;
  broker: Broker;
  replies: ReplySink;
  logger: Logger;
  onLog: (line: LogLine) => void;
  /** @default DEFAULT_GRACE_MS */
  graceMs?: number;
  /** Runs replicas where they cannot see riff's data; undefined: no sandbox. */
  sandbox?: Sandbox | undefined;
  /** Where each replica's limits are written; undefined: not enforced. */
  limiter?: Limiter | undefined;
  /** Gives each replica a gateway path of its own (see CallerRegistry); undefined: riff's plain URL. */
  callers?: CallerRegistry | undefined;
  /** Where each invocation, cold start, retry and dead letter is told; undefined: nowhere. */
  telemetry?: TelemetrySink | undefined;
  /** The cluster node this runner is on, for the invocation records (absent on one daemon). */
  node?: string | undefined;
}

/**
 * `idle`: no replicas; `running`: serving; `failed`: the function could not start; `looping`:
 * messages reached the hop limit here recently.
 */
export type RunnerStatus = "idle" | "running" | "failed" | "looping" | "crash-looping";

/** One replica as `riff describe` shows it. */
export interface ReplicaSnapshot {
  id: string;
  pid: number | undefined;
  state: string;
  startedAt: number;
  handled: number;
  inFlight: number;
  /** `topic/partition` keys this replica holds now. */
  partitions: string[];
}

/** A snapshot for `riff list`, `riff describe` and the autoscaler. */
export interface RunnerSnapshot {
  status: RunnerStatus;
  error: string | undefined;
  revision: number;
  replicas: ReplicaSnapshot[];
  /** What its replicas said they are, once one has started. */
  shape: "request-reply" | "stream" | undefined;
  /** Dispatched and unanswered, plus received and waiting for a replica. */
  inFlight: number;
  lastActivityAt: number;
  /** `topic/partition` keys this runner's groups hold now (none when it does not read its inputs). */
  assigned: string[];
  /** How the last replica that ended unasked ended: replica, exit, the limit that struck, when. */
  lastExit?: string | undefined;
}

