import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_MAX_HOPS, RiffError } from "@riff/core";
import { resolveServerLimits, type ResolvedServerLimits } from "@riff/gateway";
import { DEFAULT_POOL_SIZE, type LimitsMode, type SandboxMode } from "@riff/runtime";
import { resolveRecordsOptions, type RecordsOptions, type ResolvedRecordsOptions } from "./records-options.js";
import { resolveMetricsOptions, type MetricsOptions, type ResolvedMetricsOptions } from "./metrics-options.js";
import { resolveAutoscaler, resolveRuns, type RunsChoice } from "./node-role.js";

/** @default 8080: the one port of gateway, admin API and /healthz. */
export const DEFAULT_PORT = 8080;
/** @default "127.0.0.1": loopback only, unless asked otherwise. */
export const DEFAULT_HOST = "127.0.0.1";
/** @default 100 ms between scaling decisions. */
export const DEFAULT_SCALE_INTERVAL_MS = 100;

/** Options of the daemon; every field optional. */
export interface DaemonOptions extends MetricsOptions, RecordsOptions {
  /** @default $RIFF_HOME or ~/.riff */
  home?: string;
  /** @default DEFAULT_PORT; 0 picks a free port. */
  port?: number;
  /** @default DEFAULT_HOST */
  host?: string;
  /** @default 1 MiB */
  maxBodyBytes?: number;
  /** @default 60000 */
  replyTimeoutMs?: number;
  /** @default DEFAULT_SCALE_INTERVAL_MS */
  scaleIntervalMs?: number;
  /** @default DEFAULT_MAX_HOPS (16) */
  maxHops?: number;
  /** Pre-started generic runtime processes per pooled runtime (node). @default DEFAULT_POOL_SIZE (1) */
  poolSize?: number;
  /** @default "bwrap": riff refuses to start where bubblewrap cannot run; `none` runs functions unsandboxed. */
  sandbox?: SandboxMode;
  /**
   * How functions' limits are enforced: `cgroup` (riff refuses to start where it cannot write
   * cgroups), `rlimit` (memory and processes only), `none`, or `auto`: cgroups where riff can
   * write them, else rlimits. @default "auto"
   */
  limits?: LimitsMode;
  /**
   * Where topics live: `embedded` (SQLite files in the home) or a NATS URL.
   * @default the choice last started with this home (its `broker` file), else "embedded"
   */
  broker?: string;
  /**
   * Join a riff cluster on these NATS servers (comma-separated URLs) instead of running alone:
   * functions, code and topics are the cluster's. @default the cluster this home last joined
   */
  cluster?: string;
  /** The cluster's name, shared by all its nodes. @default "riff" */
  clusterName?: string;
  /** This node's name in the cluster. @default the host name and a hash of the home */
  nodeName?: string;
  /** Copies of the cluster's topics and buckets: 1 or 3. @default 3 on a NATS cluster of 3 or more */
  replicas?: number;
  /** NATS credentials: a `.creds` file, an nkey seed file, TLS files. */
  nats?: NatsAuthFiles;
  /** @default DEFAULT_HEADERS_TIMEOUT_MS (10 s): slow senders of headers are cut off (slowloris). */
  headersTimeoutMs?: number;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS (2 min): the longest a request may take to arrive. */
  requestTimeoutMs?: number;
  /** @default DEFAULT_MAX_CONNECTIONS (1024): connections at once to gateway and admin API. */
  maxConnections?: number;
  /** An OpenTelemetry collector's OTLP/HTTP traces URL; spans are sent there too. @default none */
  otlpEndpoint?: string;
  /** `all`, `none` or one function's name (see {@link RunsChoice}); not `all` only in a cluster. @default "all" */
  runs?: string;
  /**
   * `off`: riff does not scale (in a cluster, the leader places no replicas; alone, no
   * autoscaler loop: a message starts a replica 0 -> 1). @default "on"
   */
  autoscaler?: string;
  /** Read the admin token from this file (mode 0600 or stricter) instead of the home's. @default the home's `token` */
  tokenFile?: string;
}

/** Files that prove who riff is to NATS, and whom to trust. */
export interface NatsAuthFiles {
  creds?: string | undefined;
  nkey?: string | undefined;
  tlsCa?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/** A cluster this daemon is a node of. */
export interface ClusterChoice {
  servers: string[];
  name: string;
  node: string;
  replicas: number | undefined;
  nats: NatsAuthFiles;
}

/** Options after defaults. */
export interface ResolvedDaemonOptions {
  home: string;
  port: number;
  host: string;
  maxBodyBytes: number | undefined;
  replyTimeoutMs: number | undefined;
  scaleIntervalMs: number;
  maxHops: number;
  poolSize: number;
  sandbox: SandboxMode;
  limits: LimitsMode;
  broker: string;
  /** Set when this daemon is a node of a cluster; `broker` is then the cluster's servers. */
  cluster: ClusterChoice | undefined;
  /** Credentials for NATS, for `--broker nats://` (a cluster has its own in `cluster`). */
  nats: NatsAuthFiles | undefined;
  /** Timeouts and the connection cap of the HTTP server. */
  server: ResolvedServerLimits;
  /** Where and to whom `/metrics` is served; undefined when metrics are off. */
  metrics: ResolvedMetricsOptions | undefined;
  /** How many invocation records are kept, and how long; undefined: none are kept. */
  records: ResolvedRecordsOptions | undefined;
  /** Where spans are sent over OTLP/HTTP; undefined: nowhere. */
  otlpEndpoint: string | undefined;
  /** Which functions this node runs. */
  runs: RunsChoice;
  /** Whether riff scales replicas itself (false under Kubernetes). */
  autoscaler: boolean;
  /** An absolute path when the token is read from a file of the user's, not the home's. */
  tokenFile: string | undefined;
  /** What this start should tell its user (the home changes cluster, for one). */
  notes: string[];
}

/** The riff home: `RIFF_HOME`, else `~/.riff`. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["RIFF_HOME"];
  return fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : join(homedir(), ".riff");
}

/** Applies defaults once; never mutates its input. */
export function resolveDaemonOptions(options: DaemonOptions): ResolvedDaemonOptions {
  const home = resolve(options.home ?? defaultHome());
  // A home's topics are where it was first started with them: starting again without --broker
  // must not quietly begin an empty embedded log beside functions whose topics are on NATS.
  const choice = homePaths(home).brokerChoice;
  const saved = existsSync(choice) ? readFileSync(choice, "utf8").trim() : undefined;
  const previous = savedCluster(home);
  const cluster = resolveCluster(home, previous, options);
  const port = checkPort(options.port ?? DEFAULT_PORT);
  const host = options.host ?? DEFAULT_HOST;
  return {
    home,
    port,
    host,
    maxBodyBytes: options.maxBodyBytes,
    replyTimeoutMs: options.replyTimeoutMs,
    scaleIntervalMs: options.scaleIntervalMs ?? DEFAULT_SCALE_INTERVAL_MS,
    maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    sandbox: checkSandbox(options.sandbox ?? "bwrap"),
    limits: checkLimits(options.limits ?? "auto"),
    broker: cluster !== undefined ? cluster.servers.join(",") : checkBroker(options.broker ?? saved ?? "embedded"),
    cluster,
    nats: cluster?.nats ?? options.nats,
    server: resolveServerLimits({
      headersTimeoutMs: positive(options.headersTimeoutMs, "--headers-timeout"),
      requestTimeoutMs: positive(options.requestTimeoutMs, "--request-timeout"),
      maxConnections: positive(options.maxConnections, "--max-connections"),
    }),
    metrics: resolveMetricsOptions(options, host, port),
    records: resolveRecordsOptions(options, positive),
    otlpEndpoint: checkOtlpEndpoint(options.otlpEndpoint),
    runs: resolveRuns(options.runs, cluster !== undefined),
    autoscaler: resolveAutoscaler(options.autoscaler),
    tokenFile: options.tokenFile === undefined ? undefined : resolve(options.tokenFile),
    notes: clusterNotes(previous, cluster),
  };
}

function checkOtlpEndpoint(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (parsed.protocol === "http:" || parsed.protocol === "https:")) return url;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--otlp-endpoint ${url}: not an http(s) URL`, {
    hint: "give the collector's OTLP/HTTP traces URL, e.g. --otlp-endpoint http://127.0.0.1:4318/v1/traces",
  });
}

/** A TCP port: 0 (any free one) to 65535. */
function checkPort(port: number): number {
  if (Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--port ${port}: must be a whole number from 0 to 65535`, {
    hint: "riff system start --port 8080 (0 picks a free port)",
  });
}

/** A limit that must be a whole number of at least 1, or absent. */
function positive(value: number | undefined, flag: string): number | undefined {
  if (value === undefined || (Number.isInteger(value) && value >= 1)) return value;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `${flag} ${value}: must be a whole number of at least 1`, {
    hint: `leave ${flag} out for its default`,
  });
}

/** The cluster this home joined last, kept in `cluster.json`. */
function savedCluster(home: string): ClusterChoice | undefined {
  const file = homePaths(home).clusterChoice;
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ClusterChoice) : undefined;
}

/**
 * A home that joins another riff cluster than last time is told so: the functions, topics and
 * admin token are then the other cluster's, which a mistyped `--cluster-name` makes look like
 * everything was lost.
 */
function clusterNotes(saved: ClusterChoice | undefined, now: ClusterChoice | undefined): string[] {
  if (saved === undefined || now === undefined || saved.name === now.name) return [];
  return [
    `this home last ran as node ${saved.node} of cluster ${saved.name}; it now joins cluster ${now.name} as node ${now.node}: ` +
      `it sees ${now.name}'s functions, topics and admin token, and ${saved.name}'s stay on NATS (start with --cluster-name ${saved.name} to go back)`,
  ];
}

/** The cluster asked for, or the one this home joined last. */
function resolveCluster(home: string, saved: ClusterChoice | undefined, options: DaemonOptions): ClusterChoice | undefined {
  if (options.cluster === undefined) {
    if (options.broker !== undefined || saved === undefined) {
      refuseNodeFlags(options);
      return undefined;
    }
    checkReplicas(options.replicas);
    // Flags given now win over what was saved.
    return {
      ...saved,
      name: options.clusterName ?? saved.name,
      node: options.nodeName ?? saved.node,
      replicas: options.replicas ?? saved.replicas,
      nats: { ...saved.nats, ...definedOnly(options.nats ?? {}) },
    };
  }
  if (options.broker !== undefined) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "--broker and --cluster cannot be used together", {
      hint: "a cluster node keeps its topics on the cluster's NATS servers: give only --cluster nats://a:4222,nats://b:4222,...",
    });
  }
  const servers = options.cluster.split(",").map((u) => u.trim()).filter((u) => u !== "");
  for (const url of servers) checkBroker(url, "--cluster");
  if (servers.length === 0) throw new RiffError("RIFF_INVALID_ARGUMENT", "--cluster needs at least one NATS URL", { hint: "riff system start --cluster nats://a:4222,nats://b:4222,nats://c:4222" });
  checkReplicas(options.replicas);
  return {
    servers,
    name: options.clusterName ?? saved?.name ?? "riff",
    node: options.nodeName ?? saved?.node ?? defaultNodeName(home),
    replicas: options.replicas,
    nats: definedOnly(options.nats ?? {}),
  };
}

function checkReplicas(replicas: number | undefined): void {
  if (replicas !== undefined && replicas !== 1 && replicas !== 3) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--replicas ${replicas}: must be 1 or 3`, { hint: "3 keeps every message on three NATS servers (it needs a NATS cluster of 3 or more); 1 on one", details: { field: "replicas" } });
  }
}

/** A cluster node's flags on a start that joins no cluster would be dropped without a word: refused. */
function refuseNodeFlags(options: DaemonOptions): void {
  for (const [value, flag] of [[options.clusterName, "--cluster-name"], [options.nodeName, "--node-name"], [options.replicas, "--replicas"]] as const) {
    if (value === undefined) continue;
    throw new RiffError("RIFF_INVALID_ARGUMENT", `${flag} is a flag of a cluster node, and this start joins no cluster`, {
      hint: options.broker !== undefined ? `leave ${flag} out with --broker, or start a cluster node instead: --cluster nats://a:4222,nats://b:4222,... (docs/cluster.md)` : `add --cluster nats://a:4222,nats://b:4222,... to start a node of a riff cluster (docs/cluster.md), or leave ${flag} out`,
      details: { field: flag.slice(2) },
    });
  }
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The host's name (letters, digits, '-') and 4 hex digits of the home's path: stable, and distinct per home. */
export function defaultNodeName(home: string): string {
  const host = hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "node";
  return `${host}-${createHash("sha256").update(home).digest("hex").slice(0, 4)}`;
}

/**
 * A NATS server's URL as nats.js takes it: `nats://` or `tls://`, a host, an optional port and
 * credentials, nothing after. Parsed, not matched loosely: a list joined with ';' or ' ' is
 * one URL to a pattern, and nats.js would try only its first server.
 */
/** Why `text` is not a NATS server's URL, or undefined when it is one. */
function natsUrlProblem(text: string): string | undefined {
  if (!/^(nats|tls):\/\//.test(text)) return "it does not start with nats:// or tls://";
  const port = /:(\d+)\/?$/.exec(text)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return `port ${port} is out of range (1 to 65535)`;
  try {
    const url = new URL(text);
    if (url.hostname === "") return "it names no host";
    return (url.pathname === "" || url.pathname === "/") && url.search === "" && url.hash === "" ? undefined : "a server's URL has no path, query or fragment";
  } catch {
    return "it is not a valid URL";
  }
}

/** `embedded`, or the URL of a NATS server (several comma-separated); anything else is refused, naming the URL at fault and why. */
function checkBroker(broker: string, flag = "--broker"): string {
  if (broker === "embedded" && flag === "--broker") return broker;
  const bad = broker.split(",").map((u) => u.trim()).map((url) => ({ url, why: natsUrlProblem(url) })).find((u) => u.why !== undefined);
  if (bad === undefined) return broker;
  const which = broker.includes(",") ? `${bad.url}: ` : "";
  if (flag === "--cluster") {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--cluster ${broker}: not a NATS URL (${which}${bad.why ?? ""})`, {
      hint: "give the cluster's NATS servers as URLs (nats:// or tls://, a host and a port), separated by commas: --cluster nats://a:4222,nats://b:4222,nats://c:4222",
      details: { field: "cluster" },
    });
  }
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--broker ${broker}: not 'embedded' nor a NATS URL (${which}${bad.why ?? ""})`, {
    hint: "use --broker embedded (the default: topics in the riff home) or --broker nats://127.0.0.1:4222 (NATS JetStream)",
    details: { field: "broker" },
  });
}

/** Where things live in the home. The CLI reads `daemon.json` and `token` too. */
export function homePaths(home: string) {
  return {
    home,
    token: join(home, "token"),
    daemonInfo: join(home, "daemon.json"),
    daemonLog: join(home, "daemon.log"),
    /** Where this home's topics live (`--broker`), kept for the next start. */
    brokerChoice: join(home, "broker"),
    /** The cluster this home's node joined (`--cluster`), kept for the next start. */
    clusterChoice: join(home, "cluster.json"),
    /** Function code this node fetched from its cluster, by digest. */
    artifacts: join(home, "artifacts"),
    /** Code sent over the API (`POST /artifacts`), unpacked here until it is stored. */
    uploads: join(home, "uploads"),
    broker: join(home, "topics"),
    functions: join(home, "functions"),
    invokers: join(home, "invokers"),
    secrets: join(home, "secrets"),
    keys: join(home, "keys"),
    topicRates: join(home, "topic-rates"),
    pool: join(home, "pool"),
    logs: join(home, "logs"),
  };
}

/** Paths of a home, as {@link homePaths} returns them. */
export type HomePaths = ReturnType<typeof homePaths>;

const LIMITS_MODES: readonly LimitsMode[] = ["auto", "cgroup", "rlimit", "none"];

function checkLimits(mode: string): LimitsMode {
  const known = LIMITS_MODES.find((m) => m === mode);
  if (known !== undefined) return known;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--limits ${mode}: must be auto, cgroup, rlimit or none`, {
    hint: "auto (the default) uses cgroups where riff can write them, else rlimits; cgroup refuses to start without them",
  });
}

function checkSandbox(mode: string): SandboxMode {
  if (mode === "bwrap" || mode === "none") return mode;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--sandbox ${mode}: must be bwrap or none`, {
    hint: "bwrap (the default) runs functions in bubblewrap's sandbox; none runs them unsandboxed, on purpose",
  });
}
