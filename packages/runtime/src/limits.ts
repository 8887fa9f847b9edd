import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RiffError, type Logger } from "@riff/core";
import { createRlimitLimiter } from "./rlimits.js";

/** What one replica may use (memory in bytes; processes and threads together; cores); undefined: not limited. */
export interface ReplicaLimits {
  memoryBytes: number | undefined;
  pids: number | undefined;
  cpu: number | undefined;
}

/** Why a replica's limits ended it, read off its cgroup (or, under rlimits, its runtime's last words) after it exited or failed. */
export type LimitOutcome = "memory" | "pids" | undefined;

/** One replica's limits as enforced: a cgroup its processes start in, or the rlimits they start with. */
export interface ReplicaCgroup {
  /** Runs `command args` in the cgroup (a shell writes its own pid there, then execs): around the sandbox. */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Programs (and their arguments) that run just before the function's runtime, inside the sandbox. */
  readonly launcher?: string[];
  /** Follows the spawned process (under rlimits, its stderr tells an allocation failure). */
  watch?(child: ChildProcess): void;
  /** Writes `limits` (a pooled process gets its function's limits when it is taken). */
  apply(limits: ReplicaLimits): void;
  /** Whether the memory limit killed a process, or the process limit refused a fork, so far. */
  outcome(): LimitOutcome;
  /**
   * Resolves once {@link outcome} can be trusted for a process that died: under rlimits, once
   * its stderr (where the runtime says it ran out of memory) has been read to the end.
   */
  settled?(): Promise<void>;
  /** Kills what is left in the cgroup (what the replica started, sandbox or not), then removes it. */
  remove(): void;
}

/** Where limits are enforced, for status: `cgroup v1 (memory, pids, cpu)`, or why not. */
export interface Limiter {
  readonly kind: "cgroup" | "rlimit" | "none";
  /** Whether {@link ReplicaCgroup.apply} changes a running process's limits (a pooled one's): cgroups can, rlimits cannot. */
  readonly retrofits: boolean;
  readonly enforcement: string;
  /** A new cgroup named `name`, or undefined where none can be made. */
  create(name: string, limits: ReplicaLimits): ReplicaCgroup | undefined;
}

const ROOT = "/sys/fs/cgroup";
type Controller = "memory" | "pids" | "cpu";
const CFS_PERIOD_US = 100_000;

/** The cgroup v1 folder of `controller` this process is in, when it exists and can be written. */
function v1Base(controller: Controller): string | undefined {
  let own = "/";
  try {
    for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
      const [, list, path] = line.split(":");
      if (list !== undefined && path !== undefined && list.split(",").includes(controller)) own = path;
    }
  } catch {
    return undefined;
  }
  const base = join(ROOT, controller, own, "riff");
  try {
    mkdirSync(base, { recursive: true });
    return base;
  } catch {
    return undefined;
  }
}

/** `--limits`: `auto` takes cgroups where riff can write them, else rlimits. */
export type LimitsMode = "auto" | "cgroup" | "rlimit" | "none";

/** The limiter `mode` asks for; `cgroup` fails with RIFF_LIMITS_UNAVAILABLE where no cgroup can be written. */
export function detectLimiter(logger: Logger, mode: LimitsMode = "auto", o: { sandboxed: boolean; uid?: number | undefined } = { sandboxed: true }): Limiter {
  if (mode === "none") return { kind: "none", retrofits: false, enforcement: "none (--limits none): limits are not enforced", create: () => undefined };
  const cgroups = mode === "rlimit" ? undefined : detectCgroups(logger);
  if (cgroups !== undefined) return cgroups;
  if (mode === "cgroup") {
    throw new RiffError("RIFF_LIMITS_UNAVAILABLE", "--limits cgroup: riff cannot write any cgroup here (v1 memory, pids or cpu, or v2's unified tree)", {
      hint: "run riff as root on a machine with cgroups, or start with --limits rlimit (or auto) to enforce memory and processes with rlimits",
    });
  }
  return createRlimitLimiter(logger, o);
}

/**
 * Finds the cgroup controllers riff can write here (v1 per controller, under this process's own
 * cgroup, as on this project's machines; else v2's unified tree with the controllers enabled).
 */
function detectCgroups(logger: Logger): Limiter | undefined {
  const v1 = new Map<Controller, string>();
  for (const c of ["memory", "pids", "cpu"] as const) {
    const base = existsSync(join(ROOT, c)) ? v1Base(c) : undefined;
    if (base !== undefined) v1.set(c, base);
  }
  if (v1.size > 0) {
    for (const base of v1.values()) sweep(base);
    return v1Limiter(v1, logger);
  }
  const v2 = v2Base();
  if (v2 !== undefined) {
    sweep(v2.base);
    return v2Limiter(v2.base, v2.controllers, logger);
  }
  return undefined;
}

function write(file: string, value: string, logger: Logger): void {
  try {
    writeFileSync(file, value);
  } catch (err) {
    logger.warn("a limit could not be written", { file, err: String(err) });
  }
}

function counter(file: string, key: string): number {
  try {
    const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${key} `));
    return line === undefined ? 0 : Number(line.slice(key.length + 1));
  } catch {
    return 0;
  }
}

/** `sh -c` that moves itself into every `procs` file, then becomes the command. */
function enter(procs: string[], command: string, args: string[]): { command: string; args: string[] } {
  const moves = procs.map((_, i) => `echo $$ > "$${i + 1}"`).join(" && ");
  return { command: "/bin/sh", args: ["-c", `${moves} && shift ${procs.length} && exec "$@"`, "riff-limits", ...procs, command, ...args] };
}

function v1Limiter(bases: Map<Controller, string>, logger: Logger): Limiter {
  return {
    kind: "cgroup",
    retrofits: true,
    enforcement: `cgroup v1 (${[...bases.keys()].join(", ")})`,
    create(name, limits) {
      const dirs = new Map<Controller, string>();
      for (const [c, base] of bases) {
        const dir = join(base, name);
        try {
          mkdirSync(dir, { recursive: true });
          dirs.set(c, dir);
        } catch (err) {
          logger.warn("a cgroup could not be made", { dir, err: String(err) });
        }
      }
      const at = (c: Controller, file: string) => (dirs.has(c) ? join(dirs.get(c) as string, file) : undefined);
      const cg: ReplicaCgroup = {
        wrap: (command, args) => enter([...dirs.values()].map((d) => join(d, "cgroup.procs")), command, args),
        apply(l) {
          const mem = at("memory", "memory.limit_in_bytes");
          if (mem !== undefined) write(mem, l.memoryBytes === undefined ? "-1" : String(l.memoryBytes), logger);
          const pids = at("pids", "pids.max");
          if (pids !== undefined) write(pids, l.pids === undefined ? "max" : String(l.pids), logger);
          const quota = at("cpu", "cpu.cfs_quota_us");
          if (quota !== undefined) {
            write(at("cpu", "cpu.cfs_period_us") as string, String(CFS_PERIOD_US), logger);
            write(quota, l.cpu === undefined ? "-1" : String(Math.max(1000, Math.round(l.cpu * CFS_PERIOD_US))), logger);
          }
        },
        outcome() {
          const oom = at("memory", "memory.oom_control");
          if (oom !== undefined && counter(oom, "oom_kill") > 0) return "memory";
          const events = at("pids", "pids.events");
          if (events !== undefined && counter(events, "max") > 0) return "pids";
          return undefined;
        },
        remove() {
          for (const dir of dirs.values()) killAll(join(dir, "cgroup.procs"));
          for (const dir of dirs.values()) removeDir(dir);
        },
      };
      cg.apply(limits);
      return cg;
    },
  };
}

function v2Base(): { base: string; controllers: string[] } | undefined {
  try {
    const own = readFileSync("/proc/self/cgroup", "utf8").split("\n").find((l) => l.startsWith("0::"))?.slice(3) ?? "/";
    const controllers = readFileSync(join(ROOT, "cgroup.controllers"), "utf8").trim().split(/\s+/);
    if (!controllers.includes("memory") && !controllers.includes("pids")) return undefined;
    // A process may not sit in a cgroup whose children have controllers: riff's go one level up.
    const base = join(ROOT, own, "..", "riff");
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, "cgroup.subtree_control"), controllers.filter((c) => ["memory", "pids", "cpu"].includes(c)).map((c) => `+${c}`).join(" "));
    return { base, controllers };
  } catch {
    return undefined;
  }
}

function v2Limiter(base: string, controllers: string[], logger: Logger): Limiter {
  return {
    kind: "cgroup",
    retrofits: true,
    enforcement: `cgroup v2 (${controllers.filter((c) => ["memory", "pids", "cpu"].includes(c)).join(", ")})`,
    create(name, limits) {
      const dir = join(base, name);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        logger.warn("a cgroup could not be made", { dir, err: String(err) });
        return undefined;
      }
      const cg: ReplicaCgroup = {
        wrap: (command, args) => enter([join(dir, "cgroup.procs")], command, args),
        apply(l) {
          if (controllers.includes("memory")) write(join(dir, "memory.max"), l.memoryBytes === undefined ? "max" : String(l.memoryBytes), logger);
          if (controllers.includes("pids")) write(join(dir, "pids.max"), l.pids === undefined ? "max" : String(l.pids), logger);
          if (controllers.includes("cpu")) write(join(dir, "cpu.max"), l.cpu === undefined ? "max" : `${Math.max(1000, Math.round(l.cpu * CFS_PERIOD_US))} ${CFS_PERIOD_US}`, logger);
        },
        outcome() {
          if (counter(join(dir, "memory.events"), "oom_kill") > 0) return "memory";
          if (counter(join(dir, "pids.events"), "max") > 0) return "pids";
          return undefined;
        },
        remove() {
          killAll(join(dir, "cgroup.procs"));
          removeDir(dir);
        },
      };
      cg.apply(limits);
      return cg;
    },
  };
}

/**
 * Removes the cgroups left by daemons that are gone (killed, or stopped before their replicas'
 * cgroups emptied): each is named `<daemon pid>-<n>`, and one whose daemon no longer runs and
 * that holds no process goes. A live daemon's are left alone.
 */
function sweep(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    try {
      rmdirSync(join(base, name));
    } catch {
      // not a cgroup of ours, or still holding a process: left as it is
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGKILLs every process listed in a `cgroup.procs` file. */
function killAll(procs: string): void {
  let pids: number[];
  try {
    pids = readFileSync(procs, "utf8").split("\n").filter((l) => l !== "").map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** A cgroup folder goes once empty; its processes may take a moment to be reaped, so a few tries. */
function removeDir(dir: string): void {
  const attempt = (left: number): void => {
    try {
      rmdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EBUSY" && left > 0) setTimeout(() => attempt(left - 1), 200).unref();
    }
  };
  attempt(10);
}

/**
 * The error for a message whose replica's limits struck while it ran: the memory limit killed
 * the replica, or the process limit refused a fork (the replica is then killed too, so that
 * what it started goes with it). Undefined when no limit struck.
 */
export function limitFailure(replica: { limitHit?(): LimitOutcome; kill(): void }): RiffError | undefined {
  const hit = replica.limitHit?.();
  if (hit === "memory") {
    return new RiffError("RIFF_OUT_OF_MEMORY", "the function's replica ran out of memory and was killed", {
      hint: "raise spec.resources.memory (default 512Mi), or use less memory per message",
    });
  }
  if (hit === "pids") {
    replica.kill();
    return new RiffError("RIFF_PROCESS_LIMIT", "the function's replica reached its process limit, and was stopped with everything it started", {
      hint: "raise spec.resources.pids (default 256), or start fewer processes and threads",
    });
  }
  return undefined;
}
