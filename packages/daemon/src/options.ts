import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_MAX_HOPS, RiffError } from "@riff/core";
import { DEFAULT_POOL_SIZE, type SandboxMode } from "@riff/runtime";

/** @default 8080: the one port of gateway, admin API and /healthz. */
export const DEFAULT_PORT = 8080;
/** @default "127.0.0.1": loopback only, unless asked otherwise. */
export const DEFAULT_HOST = "127.0.0.1";
/** @default 100 ms between scaling decisions. */
export const DEFAULT_SCALE_INTERVAL_MS = 100;

/** Options of the daemon; every field optional. */
export interface DaemonOptions {
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
  /** @default "auto": bubblewrap when it works here. */
  sandbox?: SandboxMode;
  /**
   * Where topics live: `embedded` (SQLite files in the home) or a NATS URL.
   * @default the choice last started with this home (its `broker` file), else "embedded"
   */
  broker?: string;
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
  broker: string;
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
  return {
    home,
    port: options.port ?? DEFAULT_PORT,
    host: options.host ?? DEFAULT_HOST,
    maxBodyBytes: options.maxBodyBytes,
    replyTimeoutMs: options.replyTimeoutMs,
    scaleIntervalMs: options.scaleIntervalMs ?? DEFAULT_SCALE_INTERVAL_MS,
    maxHops: options.maxHops ?? DEFAULT_MAX_HOPS,
    poolSize: options.poolSize ?? DEFAULT_POOL_SIZE,
    sandbox: options.sandbox ?? "auto",
    broker: checkBroker(options.broker ?? saved ?? "embedded"),
  };
}

/** `embedded`, or the URL of a NATS server (several comma-separated); anything else is refused. */
function checkBroker(broker: string): string {
  if (broker === "embedded" || /^(nats|tls):\/\/[^\s]+$/.test(broker)) return broker;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--broker ${broker}: not 'embedded' nor a NATS URL`, {
    hint: "use --broker embedded (the default: topics in the riff home) or --broker nats://127.0.0.1:4222 (NATS JetStream)",
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
    broker: join(home, "topics"),
    functions: join(home, "functions"),
    invokers: join(home, "invokers"),
    pool: join(home, "pool"),
    logs: join(home, "logs"),
  };
}

/** Paths of a home, as {@link homePaths} returns them. */
export type HomePaths = ReturnType<typeof homePaths>;
