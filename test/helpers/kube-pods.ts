import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The daemon's entry, which riff's images run (`node /opt/riff/packages/daemon/dist/main.js`). */
const DAEMON_MAIN = resolve(import.meta.dirname, "../../packages/daemon/dist/main.js");

/** A container of a generated pod template, as far as running it needs. */
export interface ContainerSpec {
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
}

/** A pod's container run here as a process. */
export interface LocalPod {
  name: string;
  pid: number;
  /** Its gateway and admin API. */
  url: string;
  home: string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export const livePods = new Set<LocalPod>();

/**
 * Runs a generated pod's container as a local process, as the hollow kubelet cannot: the same
 * arguments and environment, with `$(VAR)` expanded as the kubelet does (the downward API's
 * metadata.name is the pod's name), and only what a pod has that a process here lacks
 * replaced: its home (an emptyDir there), its address (the pod's IP there: loopback and a free
 * port here) and files mounted from Secrets (`files`).
 */
export async function runPodLocally(container: ContainerSpec, o: { podName: string; files?: Record<string, string> }): Promise<LocalPod> {
  const home = mkdtempSync(join(tmpdir(), `riff-pod-${o.podName}-`));
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = o.podName;
  }
  env["RIFF_HOME"] = home;
  const expand = (arg: string) => arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
  const args = (container.args ?? []).map(expand);
  const replace = (flag: string, value: string) => {
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = value;
  };
  replace("--home", home);
  replace("--host", "127.0.0.1");
  replace("--port", "0");
  for (const [mounted, local] of Object.entries(o.files ?? {})) {
    const at = args.indexOf(mounted);
    if (at >= 0) args[at] = local;
  }
  const child = spawn(process.execPath, [DAEMON_MAIN, ...args], {
    env: { ...process.env, ...env, RIFF_READY_FD: "3" },
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const ready = await new Promise<{ ok: boolean; info?: { url: string }; error?: unknown }>((res, rej) => {
    let text = "";
    const fd3 = child.stdio[3] as NodeJS.ReadableStream;
    fd3.setEncoding("utf8");
    fd3.on("data", (c: string) => {
      text += c;
      const line = text.split("\n")[0];
      if (text.includes("\n") && line !== undefined) res(JSON.parse(line) as { ok: boolean; info?: { url: string } });
    });
    void exited.then(() => rej(new Error(`pod ${o.podName} exited before it was ready:\n${stderr}`)));
  });
  if (!ready.ok || ready.info === undefined) {
    child.kill("SIGKILL");
    throw new Error(`pod ${o.podName} failed to start: ${JSON.stringify(ready.error)}\n${stderr}`);
  }
  const pod: LocalPod = {
    name: o.podName,
    pid: child.pid as number,
    url: ready.info.url,
    home,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      livePods.delete(pod);
    },
  };
  livePods.add(pod);
  return pod;
}
