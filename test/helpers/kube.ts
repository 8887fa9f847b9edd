import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The script that builds and runs the test control plane (docs/kubernetes.md, "The test control plane"). */
export const K8S_SCRIPT = resolve(import.meta.dirname, "../../scripts/k8s-control-plane.sh");
/** Where `scripts/k8s-control-plane.sh build` put the binaries. */
export const K8S_BIN = join(process.env.RIFF_K8S_CACHE ?? "/var/cache/riff-k8s", "bin");
const COMPONENTS = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubemark"];

/**
 * A Kubernetes 1.20 control plane of a test's own: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and one kubemark hollow node, on free ports of 127.0.0.1. Hollow pods get fake
 * IPs: never dial a pod or Service IP.
 */
export interface ControlPlane {
  /** Its state, certificates and logs (`logs/NAME.log`); removed by `stop`. */
  readonly dir: string;
  /** The path of an admin kubeconfig (token auth, system:masters). */
  readonly kubeconfig: string;
  /** The API server's URL, `https://127.0.0.1:PORT`. */
  readonly server: string;
  /** The admin's bearer token. */
  readonly token: string;
  /** Stops exactly the processes it started (by pid) and removes `dir`. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Control planes not yet stopped: a test that times out never reaches its `stop`, and the setup
 * file stops what is left here after each test file.
 */
export const liveControlPlanes = new Set<ControlPlane>();

/**
 * Starts a control plane in a fresh temp dir (`scripts/k8s-control-plane.sh start DIR`). Fails,
 * naming them, when the binaries are not built: a skipped suite would pass having checked nothing.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  const missing = COMPONENTS.filter((c) => !existsSync(join(K8S_BIN, c)));
  if (missing.length > 0) {
    throw new Error(`the Kubernetes tests need ${missing.map((c) => join(K8S_BIN, c)).join(", ")}: build them once with scripts/k8s-control-plane.sh build (.ci/run does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), "riff-k8s-"));
  const stopScript = async () => {
    await run(K8S_SCRIPT, ["stop", dir], { timeout: 60_000 });
  };
  try {
    await run(K8S_SCRIPT, ["start", dir], { timeout: 240_000 });
  } catch (err) {
    // The script stops what it started when its start fails; stop again in case it was killed.
    await stopScript().catch(() => undefined);
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/k8s-control-plane.sh start ${dir} failed (logs kept in ${dir}/logs):\n${e.stderr ?? ""}${e.stdout ?? ""}${e.message}`);
  }
  const env = Object.fromEntries(
    readFileSync(join(dir, "env"), "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  let stopped: Promise<void> | undefined;
  const plane: ControlPlane = {
    dir,
    kubeconfig: env.KUBECONFIG!,
    server: env.RIFF_K8S_SERVER!,
    token: env.RIFF_K8S_TOKEN!,
    stop() {
      stopped ??= (async () => {
        liveControlPlanes.delete(plane);
        await stopScript();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]() {
      return plane.stop();
    },
  };
  liveControlPlanes.add(plane);
  return plane;
}
