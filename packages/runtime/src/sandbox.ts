import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { RiffError } from "@riff/core";
import type { LimitOutcome, Limiter, ReplicaCgroup, ReplicaLimits } from "./limits.js";

/**
 * Where a replica runs (docs/security.md): an unprivileged uid, its own pid, ipc and uts
 * namespaces (and network, for `spec.network: none`), and a file system made only of what it
 * needs, read-only: `/usr`, a few files of `/etc`, its runtime, riff's shims and its revision's
 * folder; plus a private writable `/tmp` and home. The riff home, other functions, `/root`,
 * `/home` and the host's secrets are simply not there.
 */
export interface Sandbox {
  readonly kind: "bwrap";
  /** The uid (and gid) functions run as: {@link SANDBOX_UID} when riff runs as root, else riff's own. */
  readonly uid: number;
  /** The command and arguments that run `command args` in the sandbox. */
  wrap(command: string, args: string[], o: SandboxRun): { command: string; args: string[] };
  /** A fresh private home on the host for one replica, owned by the sandbox's uid; the caller removes it. */
  makeHome(): string;
}

/** One replica's part of the sandbox. */
export interface SandboxRun {
  /** The revision's folder (or the pool process's), read-only, and the working directory. */
  dir: string;
  /** The private home (see {@link Sandbox.makeHome}), writable, mounted at {@link SANDBOX_HOME}. */
  home: string;
  network: "host" | "none";
  /** Programs that run, in the sandbox, just before the function's runtime (rlimits' `prlimit`). */
  launcher?: string[] | undefined;
}

/** `bwrap`: required, riff refuses to start without it; `none`: functions run as plain processes. */
export type SandboxMode = "bwrap" | "none";

/** The uid and gid of functions when riff runs as root: no user of the host has it. */
export const SANDBOX_UID = 61_000;
/** HOME inside the sandbox. */
export const SANDBOX_HOME = "/home/riff";

/** Files of /etc a runtime may need (libraries, TLS roots, names, time); nothing of the host's secrets. */
const ETC = ["ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "ssl/certs", "ssl/openssl.cnf", "ca-certificates", "resolv.conf", "hosts", "nsswitch.conf", "host.conf", "gai.conf", "localtime", "timezone", "mime.types", "protocols", "services"];

/** riff's own code (the shims replicas run): the workspace root, three levels above this file's package folder. */
const INSTALL_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/**
 * What of {@link INSTALL_ROOT} a replica sees: the packages (shims, SDKs) and the modules they
 * import, not the checkout's history, tests or scripts; the whole root when it is not laid out
 * as riff's workspace.
 */
const RIFF_CODE = (() => {
  const parts = ["packages", "node_modules"].map((d) => join(INSTALL_ROOT, d));
  return parts.every((d) => existsSync(d)) ? parts : [INSTALL_ROOT];
})();

/**
 * A bubblewrap sandbox. `state` is a folder of riff's for what the sandbox mounts (its passwd
 * and group, and the replicas' homes); `hidden` is the riff home, never mounted even where it
 * lies inside riff's own code.
 */
export function createBwrapSandbox(o: { state: string; hidden: string; bwrap?: string }): Sandbox {
  const root = process.getuid?.() === 0;
  const uid = root ? SANDBOX_UID : (process.getuid?.() ?? SANDBOX_UID);
  const homes = join(o.state, "homes");
  mkdirSync(homes, { recursive: true, mode: 0o700 });
  const passwd = join(o.state, "passwd");
  const group = join(o.state, "group");
  writeFileSync(passwd, `root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nriff:x:${uid}:${uid}:riff function:${SANDBOX_HOME}:/usr/sbin/nologin\n`, { mode: 0o644 });
  writeFileSync(group, `root:x:0:\nriff:x:${uid}:\n`, { mode: 0o644 });
  const etc = ETC.filter((f) => existsSync(join("/etc", f)));
  // A JDK's configuration lives in /etc/java-<version>-openjdk, linked from its conf folder.
  const javaConf = ["java-17-openjdk", "java-21-openjdk", "java-11-openjdk"].filter((f) => existsSync(join("/etc", f)));
  return {
    kind: "bwrap",
    uid,
    makeHome() {
      const home = mkdtempSync(join(homes, "h-"));
      if (root) chownSync(home, uid, uid);
      return home;
    },
    wrap(command, args, run) {
      const a: string[] = ["--ro-bind", "/usr", "/usr"];
      for (const l of ["bin", "lib", "lib64", "sbin"]) if (existsSync(`/usr/${l}`)) a.push("--symlink", `usr/${l}`, `/${l}`);
      // Folders bwrap would make on the way to a mount are 0700 root: made here, they are 0755.
      const made = new Set<string>(["/"]);
      const mount = (flag: string, from: string, to = from) => {
        for (const d of ancestors(to)) {
          if (!made.has(d)) a.push("--dir", d);
          made.add(d);
        }
        a.push(flag, from, to);
      };
      for (const f of [...etc, ...javaConf]) mount("--ro-bind", join("/etc", f));
      mount("--ro-bind", passwd, "/etc/passwd");
      mount("--ro-bind", group, "/etc/group");
      a.push("--dev", "/dev", "--proc", "/proc", "--perms", "01777", "--tmpfs", "/tmp");
      made.add("/tmp");
      // The runtime, when it is not under /usr (a pyenv or nvm install): its whole prefix.
      // A command in the riff home (a command function's script) is in its revision's folder.
      const prefix = runtimePrefix(command);
      if (prefix !== undefined && !isInside(prefix, o.hidden) && !isInside(o.hidden, prefix)) mount("--ro-bind", prefix);
      for (const code of RIFF_CODE) mount("--ro-bind", code);
      // A riff home inside riff's own code (a development set-up) stays hidden all the same.
      if (RIFF_CODE.some((code) => isInside(o.hidden, code))) a.push("--tmpfs", o.hidden);
      mount("--ro-bind", run.dir);
      mount("--bind", run.home, SANDBOX_HOME);
      a.push("--chdir", run.dir, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent", "--new-session");
      if (run.network === "none") a.push("--unshare-net");
      const launched = [...(run.launcher ?? []), command, ...args];
      if (!root) return { command: o.bwrap ?? "bwrap", args: [...a, "--unshare-user", "--", ...launched] };
      // As root, bwrap keeps only what setpriv needs to become the sandbox's uid; after the
      // switch the process has no capabilities at all, and cannot gain any (no_new_privs).
      a.push("--cap-add", "CAP_SETUID,CAP_SETGID,CAP_SETPCAP");
      const drop = ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"];
      return { command: o.bwrap ?? "bwrap", args: [...a, "--", ...drop, ...launched] };
    },
  };
}

/** The folders above `path`, outermost first. */
function ancestors(path: string): string[] {
  const chain: string[] = [];
  for (let at = dirname(path); at !== "/" && at !== "."; at = dirname(at)) chain.unshift(at);
  return chain;
}

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(`${parent}/`);
}

/** The install prefix of `command` (two levels above its real file) when it lies outside /usr. */
function runtimePrefix(command: string): string | undefined {
  if (!command.startsWith("/")) return undefined;
  try {
    const real = realpathSync(command);
    if (real.startsWith("/usr/")) return undefined;
    return dirname(dirname(real));
  } catch {
    return undefined;
  }
}

/**
 * Checks that bubblewrap runs here, by running `true` in the same kind of sandbox functions get.
 * `none` gives undefined; otherwise it fails with RIFF_SANDBOX_UNAVAILABLE and how to fix it.
 */
export async function detectSandbox(mode: SandboxMode, paths: { state: string; hidden: string }): Promise<Sandbox | undefined> {
  if (mode === "none") return undefined;
  const sandbox = createBwrapSandbox(paths);
  const home = sandbox.makeHome();
  const probe = sandbox.wrap("/usr/bin/true", [], { dir: home, home, network: "host" });
  try {
    await promisify(execFile)(probe.command, probe.args, { timeout: 10_000 });
    return sandbox;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const why = e.code === "ENOENT" ? "bubblewrap (bwrap) is not installed" : `bubblewrap cannot run here: ${(e.stderr ?? e.message).trim()}`;
    throw new RiffError("RIFF_SANDBOX_UNAVAILABLE", `functions cannot be sandboxed: ${why}`, {
      hint: "install bubblewrap (apt-get install bubblewrap) and start again; or, to run functions unsandboxed on purpose, start with --sandbox none",
    });
  }
}

/** How one replica's processes run: in the sandbox or not, under which limits, on which network. */
export interface Confinement {
  sandbox: Sandbox | undefined;
  /** Where limits are enforced (cgroups or rlimits); undefined: not enforced. */
  limiter: Limiter | undefined;
  limits: ReplicaLimits;
  network: "host" | "none";
  /**
   * The replica's private home, kept across its processes (a command function runs one per
   * message); undefined: each process gets one of its own, removed when it exits.
   */
  home?: string | undefined;
  /** Variables of riff's that differ per replica (its gateway path); they win over the launch's. */
  env?: Record<string, string> | undefined;
}

const cgroups = new WeakMap<ChildProcess, ReplicaCgroup>();
/** What a process's limits did, read as it exited, before its cgroup was removed. */
const outcomes = new WeakMap<ChildProcess, LimitOutcome>();
let seq = 0;

/**
 * Spawns a replica's process confined as `c` says (its folder is `options.cwd`): in the sandbox
 * with a private home, in a cgroup of its own with the limits. Both go when it exits.
 */
export function spawnInSandbox<T extends ChildProcess = ChildProcess>(
  c: Confinement | undefined,
  command: string,
  args: string[],
  options: SpawnOptions & { cwd: string; env: Record<string, string> },
): T {
  const cgroup = c?.limiter?.create(`${process.pid}-${++seq}`, c.limits);
  const launcher = cgroup?.launcher ?? [];
  let run = { command: launcher[0] ?? command, args: [...launcher.slice(1), ...(launcher.length > 0 ? [command] : []), ...args] };
  let env = { ...options.env, ...c?.env };
  let home: string | undefined;
  if (c?.sandbox !== undefined) {
    if (c.home === undefined) home = c.sandbox.makeHome();
    run = c.sandbox.wrap(command, args, { dir: options.cwd, home: c.home ?? (home as string), network: c.network, launcher });
    env = { ...env, HOME: SANDBOX_HOME, TMPDIR: "/tmp" };
  }
  if (cgroup !== undefined) run = cgroup.wrap(run.command, run.args);
  // The caller's stdio option decides which streams exist; T says so to the type checker.
  const child = spawn(run.command, run.args, { ...options, env }) as T;
  if (cgroup !== undefined) {
    cgroups.set(child, cgroup);
    cgroup.watch?.(child);
  }
  child.once("exit", () => {
    if (home !== undefined) rmSync(home, { recursive: true, force: true });
    if (cgroup === undefined) return;
    // Read now: the cgroup (and its counters) goes with its processes. An outcome told by the
    // process's own output (rlimits) may come later: that one is read when asked.
    if (cgroup.settled === undefined) outcomes.set(child, cgroup.outcome());
    cgroup.remove();
  });
  return child;
}

/** Resolves once {@link limitHit} can be trusted for a confined process that died. */
export function limitSettled(child: ChildProcess | undefined): Promise<void> {
  return (child === undefined ? undefined : cgroups.get(child)?.settled?.()) ?? Promise.resolve();
}

/** Whether a confined process's limits struck (memory: it was killed; pids: a fork was refused). */
export function limitHit(child: ChildProcess | undefined): LimitOutcome {
  if (child === undefined) return undefined;
  return outcomes.has(child) ? outcomes.get(child) : cgroups.get(child)?.outcome();
}

/** Gives a pooled process, taken by a function, that function's limits. */
export function applyLimits(child: ChildProcess, limits: ReplicaLimits): void {
  cgroups.get(child)?.apply(limits);
}
