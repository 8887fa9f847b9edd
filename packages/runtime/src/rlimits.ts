import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "@riff/core";
import type { Limiter, ReplicaCgroup, ReplicaLimits } from "./limits.js";

/**
 * What runtimes print as they die of a failed allocation: V8's "JavaScript heap out of memory"
 * ("Allocation failed"), the JVM's OutOfMemoryError and "Native memory allocation", Python's
 * MemoryError, C++'s bad_alloc, libc's ENOMEM text.
 */
const OUT_OF_MEMORY = /out of memory|Allocation failed|Cannot allocate memory|OutOfMemoryError|MemoryError|bad_alloc|Native memory allocation/i;

/** An executable on PATH, as an absolute path (the sandbox has no PATH of riff's). */
function which(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "/usr/bin:/bin").split(":")) {
    const path = join(dir, name);
    if (dir.startsWith("/") && existsSync(path)) return path;
  }
  return undefined;
}

/** Whether a process of `uid` may make a user namespace of its own here (no sysctl or LSM forbids it). */
function userNamespaces(unshare: string, uid: number | undefined): boolean {
  const probe = [unshare, "--user", "--map-current-user", "--", "/bin/true"];
  const asUid = uid === undefined ? probe : ["setpriv", `--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", ...probe];
  try {
    execFileSync(asUid[0] as string, asUid.slice(1), { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Limits with rlimits, where no cgroup can be written: the function's runtime starts under
 * `prlimit` with RLIMIT_DATA (memory: unlike RLIMIT_AS, it leaves alone the address space that
 * V8 and the JVM reserve and never touch) and RLIMIT_NPROC (processes and threads). RLIMIT_NPROC
 * counts a user's tasks per user namespace, so each replica gets a namespace of its own (bwrap
 * makes one when riff is not root; as root riff makes one inside the sandbox, after the switch
 * to the sandbox's uid) and its count is its own. CPU has no rlimit that is a rate: not enforced.
 */
export function createRlimitLimiter(logger: Logger, o: { sandboxed: boolean; uid?: number | undefined }): Limiter {
  const prlimit = which("prlimit");
  if (prlimit === undefined) {
    return { kind: "none", retrofits: false, enforcement: "none: no writable cgroup, and util-linux's prlimit is not installed (apt-get install util-linux)", create: () => undefined };
  }
  const root = process.getuid?.() === 0;
  const unshare = which("unshare");
  // bwrap run by a user that is not root already puts each replica in a user namespace.
  const ownNamespace = o.sandboxed && !root;
  const nested = !ownNamespace && unshare !== undefined && !(root && !o.sandboxed) && userNamespaces(unshare, root ? o.uid : undefined);
  const before = nested && unshare !== undefined ? [unshare, "--user", "--map-current-user", "--"] : [];
  // Root is never held by RLIMIT_NPROC: as root without a sandbox, functions run as root.
  const nproc = !(root && !o.sandboxed);
  const processes = !nproc
    ? "processes not enforced: functions run as root without a sandbox, which RLIMIT_NPROC does not hold"
    : ownNamespace || nested
      ? "processes via RLIMIT_NPROC, per replica in a user namespace of its own"
      : "processes via RLIMIT_NPROC, counted for all functions of the uid together";
  logger.info("limits are enforced with rlimits", { processes });
  const flags = (l: ReplicaLimits) => [
    ...(l.memoryBytes === undefined ? [] : [`--data=${l.memoryBytes}:${l.memoryBytes}`]),
    ...(l.pids === undefined || !nproc ? [] : [`--nproc=${l.pids}:${l.pids}`]),
  ];
  return {
    kind: "rlimit",
    retrofits: false,
    enforcement: `rlimits (memory via RLIMIT_DATA, ${processes}; cpu not enforced)`,
    create(_name, limits) {
      let exited = false;
      let allocationFailed = false;
      let tail = "";
      let stderrDone: Promise<void> = Promise.resolve();
      const cg: ReplicaCgroup = {
        launcher: [...before, prlimit, ...flags(limits), "--"],
        wrap: (command, args) => ({ command, args }),
        watch(c) {
          c.stderr?.on("data", (chunk: Buffer) => {
            // The last few hundred characters: a marker may be cut between two chunks.
            tail = (tail + chunk.toString("utf8")).slice(-512);
            if (OUT_OF_MEMORY.test(tail)) allocationFailed = true;
          });
          c.once("exit", () => (exited = true));
          // A process's last words may be read after its exit: its outcome waits for them
          // (at most a second, should something the function started keep stderr open).
          const stderr = c.stderr;
          if (stderr !== null && stderr !== undefined) {
            stderrDone = new Promise((resolve) => {
              stderr.once("close", () => resolve());
              c.once("exit", () => setTimeout(resolve, 1000).unref());
            });
          }
        },
        settled: () => stderrDone,
        // A running process keeps the rlimits it started with (changing another process's
        // needs CAP_SYS_RESOURCE, which riff may not have): see `retrofits`.
        apply() {},
        // Only a process that died of it: a runtime that survives a failed allocation goes on.
        outcome: () => (exited && allocationFailed ? "memory" : undefined),
        remove() {},
      };
      return cg;
    },
  };
}
