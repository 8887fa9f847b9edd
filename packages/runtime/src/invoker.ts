import type { Replica, ReplicaOptions } from "./replica.js";
import type { ReplicaLimits } from "./limits.js";
import type { PoolOptions } from "./warm-pool.js";

/** A function's code as a replica runs it: a private copy of the artifact, per revision. */
export interface PreparedFunction {
  name: string;
  revision: number;
  /** Folder holding this revision's copy of the artifact; the replica's working directory. */
  dir: string;
  /** Absolute path of the artifact inside `dir` (a file, or `dir` itself for a folder). */
  artifact: string;
  handler: string | undefined;
  /** The user's original artifact folder (or file), for paths written relative to it. */
  source?: string;
  /** The function's own environment variables (spec.env). */
  env?: Record<string, string>;
  /** Each replica's limits (spec.resources); undefined: riff's defaults. */
  limits?: ReplicaLimits;
  /** spec.network; undefined: host. */
  network?: "host" | "none";
}

/** A language riff can run: how to find its artifact and how to start a replica. */
export interface Invoker {
  name: string;
  description: string;
  /** Globs, in priority order, that find the artifact in a folder (`riff create` uses them). */
  matchers: string[];
  /** Messages one replica may hold at once. */
  defaultConcurrency: number;
  /**
   * Builds a new revision once, at create/update time, in its folder: compile Java sources,
   * install a package's dependencies. Lines of progress go to `log`; a failure rejects with a
   * RiffError whose message is the tool's own output, and fails the deployment. For a folder
   * artifact it may set `fn.artifact` to the file inside the folder that replicas run: the
   * daemon stores that as the revision's entry (the node invoker does, see chooseEntry).
   */
  prepare?(fn: PreparedFunction, log: (line: string) => void, signal?: AbortSignal): Promise<void>;
  /** Starts what the invoker keeps running between functions (a warm pool). */
  start?(options: PoolOptions): void;
  /** Stops it. */
  stop?(): Promise<void>;
  /** A replica of `fn`, not yet started. */
  createReplica(fn: PreparedFunction, options: Omit<ReplicaOptions, "launch">): Replica;
}

/**
 * The environment a replica gets: a clean one, not the daemon's, so no platform secret or
 * setting leaks into user code. NODE_EXTRA_CA_CERTS is left out on purpose: parsing the CA
 * bundle costs ~55 ms on every Node start.
 */
export function baseEnv(fn: PreparedFunction): Record<string, string> {
  // LANG and TZ are the daemon's unless the function sets them (spec.env); PATH, HOME and
  // RIFF_* are riff's, and spec.env may not name them (the schema refuses them).
  const env: Record<string, string> = { LANG: process.env["LANG"] ?? "C.UTF-8" };
  const tz = process.env["TZ"];
  if (tz !== undefined) env["TZ"] = tz;
  Object.assign(env, fn.env, {
    PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: fn.dir,
    RIFF_FUNCTION_NAME: fn.name,
    RIFF_FUNCTION_REVISION: String(fn.revision),
  });
  // So a function can publish through the gateway (the daemon sets it once it listens).
  const gateway = process.env["RIFF_GATEWAY_URL"];
  if (gateway !== undefined) env["RIFF_GATEWAY_URL"] = gateway;
  // In a cluster, the node the replica runs on (set by the daemon once it joined).
  const node = process.env["RIFF_NODE_NAME"];
  if (node !== undefined) env["RIFF_NODE_NAME"] = node;
  return env;
}
