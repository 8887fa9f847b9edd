import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { promisify } from "node:util";

/**
 * Wraps a replica's command so that the function sees the machine read-only, its own folder
 * read-write, `/tmp` as usual, and not the riff home (the token, the topics, other functions'
 * code): the platform's data and other functions' files are out of its reach.
 */
export interface Sandbox {
  readonly kind: "bwrap";
  /** The command and arguments that run `command args` in the sandbox with `dir` writable. */
  wrap(command: string, args: string[], dir: string): { command: string; args: string[] };
}

/** `auto`: bubblewrap when it works here, else none (with a warning); `bwrap`: required; `none`: off. */
export type SandboxMode = "auto" | "bwrap" | "none";

/** A bubblewrap sandbox that hides `hidden` (the riff home) from functions. */
export function createBwrapSandbox(hidden: string, bwrap = "bwrap"): Sandbox {
  return {
    kind: "bwrap",
    wrap(command, args, dir) {
      const inner = [
        "--ro-bind", "/", "/",
        "--bind", "/tmp", "/tmp",
        "--dev", "/dev",
        // A fresh /proc in a new pid namespace: no peeking at the daemon through /proc/PID.
        "--proc", "/proc",
        "--tmpfs", hidden,
        "--bind", dir, dir,
        "--chdir", dir,
        "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent", "--new-session",
      ];
      return { command: bwrap, args: [...inner, command, ...args] };
    },
  };
}

/**
 * Finds out whether bubblewrap runs here (it needs unprivileged user namespaces or root), by
 * running `true` inside one. `none` gives undefined; `bwrap` fails when it cannot run.
 */
export async function detectSandbox(mode: SandboxMode, hidden: string): Promise<Sandbox | undefined> {
  if (mode === "none") return undefined;
  try {
    await promisify(execFile)("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "true"], { timeout: 5000 });
    return createBwrapSandbox(hidden);
  } catch (err) {
    if (mode === "bwrap") throw err;
    return undefined;
  }
}

/** Spawns a replica's process, in the sandbox when there is one (its folder is `options.cwd`). */
export function spawnInSandbox<T extends ChildProcess = ChildProcess>(
  sandbox: Sandbox | undefined,
  command: string,
  args: string[],
  options: SpawnOptions & { cwd: string },
): T {
  const run = sandbox === undefined ? { command, args } : sandbox.wrap(command, args, options.cwd);
  // The caller's stdio option decides which streams exist; T says so to the type checker.
  return spawn(run.command, run.args, options) as T;
}
