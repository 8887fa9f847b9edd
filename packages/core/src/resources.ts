
/** The API version of riff resources, compatible with Project riff's CRDs. */
export const API_VERSION = "projectriff.io/v1alpha1";

/** @default 10000 ms: a replica stops after this long without a message. */
export const DEFAULT_IDLE_TIMEOUT_MS = 10_000;
/**
 * @default 60000 ms: how long a function may work on one message. A call cannot be cancelled,
 * so past it the replica is stopped; without a limit one stuck call holds its partition forever.
 */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 60_000;
/**
 * @default 2: times a message the function failed on is run again (after a backoff) before it
 * goes to the function's dead-letter topic. Only messages no `/requests` caller waits for.
 */
export const DEFAULT_RETRIES = 2;
/** Most retries `spec.retries` may ask for: a message that fails fifty times is stuck, not healing. */
export const MAX_RETRIES = 50;
/** Appended to a function's name to name its dead-letter topic, unless `spec.deadLetter` names one. */
export const DEAD_LETTER_SUFFIX = "-dead-letters";

/** The topic a function's failed messages go to: `spec.deadLetter`, else `<name>-dead-letters`. */
export function deadLetterTopicOf(fn: { name: string; deadLetter?: string | undefined }): string {
  return fn.deadLetter ?? `${fn.name}${DEAD_LETTER_SUFFIX}`;
}

/** `spec.retries`, or the default for functions stored before it existed. */
export function retriesOf(fn: { retries?: number | undefined }): number {
  return fn.retries ?? DEFAULT_RETRIES;
}

/** @default 1 partition per topic. */
export const DEFAULT_PARTITIONS = 1;
/** @default 7 days of retention per topic. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;
/** @default 1 GiB of retention per topic. */
export const DEFAULT_RETENTION_BYTES = 1024 ** 3;

/** Broker durability: `process` survives a crash of any riff process, `fsync` also power loss. */
export type Durability = "process" | "fsync";

/** Common resource metadata. */
export interface Metadata {
  name: string;
}

/** `spec` of a Function as written in YAML (durations may be strings). */
export interface FunctionSpec {
  invoker: string;
  /** One topic, or several: the function gets every message of each. */
  input: string | string[];
  output?: string | undefined;
  handler?: string | undefined;
  /** File or folder, relative to the YAML file that declares it. */
  artifact: string;
  maxReplicas?: number | undefined;
  minReplicas?: number | undefined;
  idleTimeoutMs?: number | undefined;
  /** Longest time for one message, ms; see DEFAULT_FUNCTION_TIMEOUT_MS. */
  timeoutMs?: number | undefined;
  concurrency?: number | undefined;
  ordering?: Ordering | undefined;
  /** Permits a cycle in the topic graph through this function, on purpose. */
  allowCycle?: boolean | undefined;
  /** `end`: `/requests` callers get the reply of the pipeline's last function, not this one's. */
  replyFrom?: "self" | "end" | undefined;
  /** Environment variables for the function's replicas (settings, not secrets: they are stored in plain text). */
  env?: Record<string, string> | undefined;
  /** Runs again of a message the function failed on, with backoff; see DEFAULT_RETRIES. */
  retries?: number | undefined;
  /** The function's dead-letter topic; @default `<name>-dead-letters`. */
  deadLetter?: string | undefined;
  /** What each replica may use (docs/security.md). */
  resources?: ResourcesSpec | undefined;
  /** `host` (the default): the machine's network; `none`: no network at all (loopback only). */
  network?: "host" | "none" | undefined;
  /** Secrets (`riff secrets set`) whose keys become the replicas' environment variables. */
  secrets?: string[] | undefined;
}

/** `spec.resources` as written: sizes and cores may be strings (`512Mi`, `500m`). */
export interface ResourcesSpec {
  memory?: number | string | undefined;
  cpu?: number | string | undefined;
  pids?: number | undefined;
}

/** @default 512 MiB of memory per replica. */
export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** @default 256 processes and threads per replica. */
export const DEFAULT_PIDS = 256;

/** Each replica's limits after defaults; `cpu` undefined: not limited. */
export interface ResourceLimits {
  memoryBytes: number;
  cpu: number | undefined;
  pids: number;
}

/** `partition`: each partition's messages are handled one at a time, in order. `none`: in parallel. */
export type Ordering = "partition" | "none";

/** A Function document. */
export interface FunctionResource {
  apiVersion: typeof API_VERSION;
  kind: "Function";
  metadata: Metadata;
  spec: FunctionSpec;
}

/** `spec` of a Topic. */
export interface TopicSpec {
  partitions?: number | undefined;
  retentionMs?: number | undefined;
  retentionBytes?: number | undefined;
  durability?: Durability | undefined;
  /**
   * Copies of each message the broker keeps: 3 needs riff on a NATS cluster of at least 3
   * servers (a quorum acknowledges each publish); the embedded broker keeps one. Left out: the
   * broker's default (3 on a NATS cluster of 3 or more, else 1).
   */
  replicas?: 1 | 3 | undefined;
  /**
   * Publishes per second through the gateway to this topic, all callers together (keyed or not);
   * past it a 429 RIFF_RATE_LIMITED. Left out: unlimited. In a cluster, each node's own.
   */
  rate?: number | undefined;
}

/** A Topic document. */
export interface TopicResource {
  apiVersion: typeof API_VERSION;
  kind: "Topic";
  metadata: Metadata;
  spec: TopicSpec;
}

/** An Invoker document: how to run functions of a language riff does not ship. */
export interface InvokerResource {
  apiVersion: typeof API_VERSION;
  kind: "Invoker";
  metadata: Metadata;
  spec: {
    description?: string | undefined;
    command: string[];
    protocol: "frames" | "http" | "lines" | "exec";
    matchers?: string[] | undefined;
    handler?: { default?: string | undefined; description?: string | undefined } | undefined;
    concurrency?: number | undefined;
  };
}

/** Any resource riff understands. */
export type Resource = FunctionResource | TopicResource | InvokerResource;

/** A Function after defaults: what the daemon stores and runs. */
export interface ResolvedFunction {
  name: string;
  invoker: string;
  inputs: string[];
  output: string | undefined;
  handler: string | undefined;
  /** Absolute path of the artifact, resolved against the YAML file's folder. */
  artifact: string;
  maxReplicas: number | undefined;
  minReplicas: number;
  idleTimeoutMs: number;
  timeoutMs: number;
  concurrency: number;
  ordering: Ordering;
  allowCycle: boolean;
  replyFrom: "self" | "end";
  env: Record<string, string>;
  resources: ResourceLimits;
  network: "host" | "none";
  /** Names of the secrets it reads; their values are never stored with it. */
  secrets: string[];
  /** Undefined in functions stored before retries existed: read it with {@link retriesOf}. */
  retries?: number | undefined;
  /** Undefined: `<name>-dead-letters`; read it with {@link deadLetterTopicOf}. */
  deadLetter?: string | undefined;
  /** Absolute path of the YAML this came from, so `riff update` can re-read it. */
  source: string | undefined;
}


/**
 * A Function document with riff's defaults applied: the one resolution of a function's
 * settings, whether `riff apply` read it from a file or the Kubernetes controller from a
 * custom resource. `artifact` is where the caller found the code; `defaultConcurrency` the
 * invoker's.
 */
export function withFunctionDefaults(resource: FunctionResource, o: { artifact: string; source: string | undefined; defaultConcurrency: number }): ResolvedFunction {
  const { spec, metadata } = resource;
  return {
    name: metadata.name,
    invoker: spec.invoker,
    inputs: Array.isArray(spec.input) ? spec.input : [spec.input],
    output: spec.output,
    handler: spec.handler,
    artifact: o.artifact,
    maxReplicas: spec.maxReplicas,
    minReplicas: spec.minReplicas ?? 0,
    idleTimeoutMs: spec.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    timeoutMs: spec.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
    concurrency: spec.concurrency ?? o.defaultConcurrency,
    ordering: spec.ordering ?? "partition",
    allowCycle: spec.allowCycle ?? false,
    replyFrom: spec.replyFrom ?? "self",
    env: spec.env ?? {},
    resources: {
      memoryBytes: (spec.resources?.memory as number | undefined) ?? DEFAULT_MEMORY_BYTES,
      cpu: spec.resources?.cpu as number | undefined,
      pids: spec.resources?.pids ?? DEFAULT_PIDS,
    },
    network: spec.network ?? "host",
    secrets: spec.secrets ?? [],
    retries: spec.retries ?? DEFAULT_RETRIES,
    deadLetter: spec.deadLetter,
    source: o.source,
  };
}
