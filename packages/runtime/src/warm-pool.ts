import type { ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { type Channel, channelOf } from "./channel.js";
import { type Logger, silentLogger } from "@riff/core";
import { FrameParser, FrameType } from "@riff/protocol";
import type { PreparedFunction } from "./invoker.js";
import type { ReplicaLimits } from "./limits.js";
import type { LaunchSpec } from "./replica.js";
import { applyLimits, spawnInSandbox, SANDBOX_HOME, type Confinement } from "./sandbox.js";

/** A generic runtime process, started and waiting for LOAD. */
export interface PooledProcess {
  child: ChildProcess;
  channel: Channel;
  /** Its own folder: the only one it can write in a sandbox, so a function's code is copied there. */
  dir: string;
}

/** @default 1 pre-started process per pooled runtime. */
export const DEFAULT_POOL_SIZE = 1;

/**
 * How long after a process is taken the pool starts its replacement. Spawning forks the
 * daemon, which blocks its event loop for a few milliseconds (3-5 ms measured here), and the
 * new runtime's start competes for the CPU: done at once, both landed inside the very cold
 * start the taken process was serving.
 */
const REFILL_DELAY_MS = 100;

/**
 * Puts the revision `from` into a pooled process's folder `to` as hard links (symlinks are
 * made again as they are), falling back to a copy where a link cannot be made (another
 * filesystem). Linking was about a millisecond faster than copying even a one-file function,
 * on a path every cold start takes. Safe because the folder is bound read-only into the
 * sandbox (sandbox.ts): the function can neither write nor chmod the stored revision through
 * its links.
 */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}

/**
 * Keeps `size` generic runtime processes started and idle, so a cold start costs loading the
 * function, not starting a runtime (what Fission's pool manager does with containers). A taken
 * process is replaced at once. Processes that die while waiting are replaced too.
 */
export class WarmPool {
  private readonly ready: PooledProcess[] = [];
  private starting = 0;
  private stopped = false;

  private seq = 0;
  /** The replacement of taken processes, scheduled (see {@link REFILL_DELAY_MS}). */
  private refillTimer: NodeJS.Timeout | undefined;
  /** Each waiting process's exit listener, taken off when a function takes the process. */
  private readonly refills = new WeakMap<ChildProcess, () => void>();

  constructor(
    private readonly launch: (dir: string) => LaunchSpec,
    private readonly size: number,
    private readonly dir: string,
    private readonly confinement: Confinement | undefined,
    private readonly logger: Logger = silentLogger,
    /** How the processes speak frames: fd 3, or stdin/stdout for runtimes that cannot open fd 3 (java). */
    private readonly transport: "fd3" | "stdio" = "fd3",
  ) {}

  start(): void {
    this.fill();
  }

  /**
   * Takes a pooled process for `fn`, if there is one, and returns the launch it is to LOAD. In a
   * sandbox the process can only reach its own folder, so the revision is copied there and the
   * paths follow; a package with its own dependencies is too big to copy on a cold start and
   * gets a fresh process instead.
   */
  adopt(fn: PreparedFunction, launch: LaunchSpec): { adopt?: PooledProcess; launch: LaunchSpec } {
    const sandboxed = this.confinement?.sandbox !== undefined;
    if (sandboxed && existsSync(join(fn.dir, "package.json"))) return { launch };
    // Pooled processes are on the host's network: a function without one starts its own.
    if (sandboxed && fn.network === "none") return { launch };
    // Under rlimits a running process keeps the limits it started with: only a function with
    // the pool's own (riff's defaults) may take it.
    if (!this.fits(fn.limits)) return { launch };
    const adopt = this.take();
    if (adopt === undefined) return { launch };
    if (fn.limits !== undefined) applyLimits(adopt.child, fn.limits);
    if (!sandboxed) return { adopt, launch };
    linkTree(fn.dir, adopt.dir);
    const move = (p: string) => (p === fn.dir || p.startsWith(`${fn.dir}/`) ? adopt.dir + p.slice(fn.dir.length) : p);
    const env = Object.fromEntries(Object.entries(launch.env).map(([k, v]) => [k, move(v)]));
    // Its private home, as for any sandboxed process (LOAD replaces the pool's environment).
    env["HOME"] = SANDBOX_HOME;
    env["TMPDIR"] = "/tmp";
    return { adopt, launch: { ...launch, command: move(launch.command), env, cwd: adopt.dir } };
  }

  private fits(limits: ReplicaLimits | undefined): boolean {
    const c = this.confinement;
    if (c?.limiter === undefined || c.limiter.retrofits || limits === undefined) return true;
    return limits.memoryBytes === c.limits.memoryBytes && limits.pids === c.limits.pids && limits.cpu === c.limits.cpu;
  }

  /** A ready process, or undefined when the pool is empty (the caller then starts one as usual). */
  take(): PooledProcess | undefined {
    const p = this.ready.shift();
    if (p !== undefined) {
      // Only the pool's own listener goes: the spawn's (its home, its cgroup) stay.
      const refill = this.refills.get(p.child);
      if (refill !== undefined) p.child.off("exit", refill);
      p.channel.removeAllListeners("data");
      this.refillTimer ??= setTimeout(() => {
        this.refillTimer = undefined;
        this.fill();
      }, REFILL_DELAY_MS).unref();
    }
    return p;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.refillTimer);
    for (const p of this.ready.splice(0)) p.child.kill("SIGKILL");
  }

  get available(): number {
    return this.ready.length;
  }

  private fill(): void {
    while (!this.stopped && this.ready.length + this.starting < this.size) {
      this.starting++;
      this.spawnOne()
        .then((p) => {
          if (this.stopped) p.child.kill("SIGKILL");
          else this.ready.push(p);
        })
        .catch((err: unknown) => this.logger.warn("a warm pool process failed to start", { err: String(err) }))
        .finally(() => this.starting--);
    }
  }

  private spawnOne(): Promise<PooledProcess> {
    const dir = join(this.dir, `${process.pid}-${++this.seq}`);
    mkdirSync(dir, { recursive: true });
    const launch = this.launch(dir);
    const stdio = this.transport === "stdio";
    const child = spawnInSandbox(this.confinement, launch.command, launch.args, { cwd: dir, env: launch.env, stdio: stdio ? ["pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe"] });
    child.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const channel = channelOf(child, this.transport);
    // Until a function owns it, anything it prints is the runtime's, not a function's (on the
    // stdio transport, stdout is the frames).
    if (!stdio) child.stdout?.resume();
    child.stderr?.resume();
    return new Promise((resolve, reject) => {
      const parser = new FrameParser();
      channel.on("data", (chunk: Buffer) => {
        let frames;
        try {
          frames = parser.push(chunk);
        } catch (err) {
          child.kill("SIGKILL");
          reject(err as Error);
          return;
        }
        for (const frame of frames) {
          if (frame.type === FrameType.READY && frame.headers["riff-pool"]?.[0] === "ready") {
            channel.removeAllListeners("data");
            const refill = () => {
              const i = this.ready.findIndex((p) => p.child === child);
              if (i !== -1) this.ready.splice(i, 1);
              this.fill();
            };
            this.refills.set(child, refill);
            child.once("exit", refill);
            resolve({ child, channel, dir });
          }
        }
      });
      child.once("exit", (code, signal) => reject(new Error(`exited (${signal ?? String(code)}) before it was ready`)));
      child.once("error", reject);
    });
  }
}

/**
 * The environment a pooled process starts with, before LOAD gives it a function's: the host's
 * PATH (to find its runtime's helpers) and the invoker's own `extra`, nothing else of the daemon's.
 */
export function poolEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...extra };
}

/** What an invoker's `start` is given for its pool. */
export interface PoolOptions {
  poolSize: number;
  logger: Logger;
  confinement: Confinement | undefined;
  poolDir: string;
}

/**
 * An invoker's pool, made once what its processes need is known (an interpreter found, a stub
 * built); if that fails there is simply no pool, and replicas start fresh. A lazy pool waits
 * until {@link want} says a function of its invoker exists: a JVM, or a Go build, is not worth
 * starting at every daemon's start for users who run no such function.
 */
export class PoolSlot {
  private pool: WarmPool | undefined;
  private stopped = false;
  private pending: { launch: () => Promise<(dir: string) => LaunchSpec>; o: PoolOptions } | undefined;

  /** `name`: the pool's folder and how the log names it; `missing`: what the log says when `launch` fails. */
  constructor(
    private readonly name: string,
    private readonly missing: string,
    private readonly transport: "fd3" | "stdio" = "fd3",
  ) {}

  get current(): WarmPool | undefined {
    return this.pool;
  }

  /** Called by the invoker's `start`: makes the pool now, or for a lazy one at the first {@link want}. */
  start(launch: () => Promise<(dir: string) => LaunchSpec>, o: PoolOptions, lazy = false): void {
    if (o.poolSize <= 0 || this.pool !== undefined) return;
    this.stopped = false;
    this.pending = { launch, o };
    if (!lazy) this.want();
  }

  /** A function of this invoker exists (it is being prepared, or a replica started): make the pool if it is not made. */
  want(): void {
    const pending = this.pending;
    if (pending === undefined || this.stopped) return;
    this.pending = undefined;
    const { launch, o } = pending;
    launch().then(
      (make) => {
        if (this.stopped || this.pool !== undefined) return;
        this.pool = new WarmPool(make, o.poolSize, join(o.poolDir, this.name), o.confinement, o.logger, this.transport);
        this.pool.start();
      },
      (err: unknown) => o.logger.info(`no ${this.name} warm pool: ${this.missing}`, { err: String(err) }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pending = undefined;
    await this.pool?.stop();
    this.pool = undefined;
  }
}
