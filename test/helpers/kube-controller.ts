import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";

/** The controller's entry, as the generated riff-controller Deployment runs it. */
export const CONTROLLER_MAIN = resolve(import.meta.dirname, "../../packages/kubernetes/dist/controller-main.js");

/** A riff controller process of a test's own. */
export interface ControllerProcess {
  readonly identity: string;
  readonly pid: number;
  /** Everything it logged (JSON lines on stderr). */
  log(): string;
  /** Resolves at the first log line matching `pattern`. */
  logged(pattern: RegExp): Promise<string>;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export const liveControllers = new Set<ControllerProcess>();

/** Starts `controller-main.js` against a kubeconfig and NATS, and waits until it says it started. */
export async function startController(o: { kubeconfig: string; nats: string; identity: string; clusterName: string; leaseNamespace: string; args?: string[] }): Promise<ControllerProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CONTROLLER_MAIN, "--kubeconfig", o.kubeconfig, "--nats", o.nats, "--cluster-name", o.clusterName, "--lease-namespace", o.leaseNamespace, "--identity", o.identity, "--lease-duration", "3", ...(o.args ?? [])],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let text = "";
  const waiters: { pattern: RegExp; resolve(line: string): void }[] = [];
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    for (const w of [...waiters]) {
      const line = text.split("\n").find((l) => w.pattern.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const proc: ControllerProcess = {
    identity: o.identity,
    pid: child.pid as number,
    log: () => text,
    logged(pattern) {
      const line = text.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((res, rej) => {
        waiters.push({ pattern, resolve: res });
        void exited.then(() => rej(new Error(`controller ${o.identity} exited before logging ${pattern}:\n${text}`)));
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      liveControllers.delete(proc);
    },
  };
  liveControllers.add(proc);
  await proc.logged(/riff controller started/);
  return proc;
}
