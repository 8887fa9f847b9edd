// Where a command acts: the daemon of a riff home (the default), or a Kubernetes cluster with
// `--kubeconfig`, `--context` or RIFF_TARGET=kubernetes. Imports nothing heavy: the Kubernetes
// client loads only when a command goes there.
import type { KubeTarget } from "@riff/kubernetes/cli-target";
import type { DaemonClient } from "./client.js";

/** The global flags that choose and reach a Kubernetes cluster. */
export interface TargetFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  gateway?: string;
  token?: string;
}

let flags: TargetFlags = {};

/** Set by each command's runner from the global flags, before the command runs. */
export function setTargetFlags(given: TargetFlags): void {
  flags = { ...given };
}

/** The admin token given with the global `--token` (e.g. for the riff-admin Secret of `riff system install`). */
export function givenToken(): string | undefined {
  return flags.token;
}

/** Whether this command acts on Kubernetes rather than on a local daemon. */
export function onKubernetes(env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.kubeconfig !== undefined || flags.context !== undefined || env["RIFF_TARGET"] === "kubernetes";
}

/** The Kubernetes cluster the flags name. */
export async function kubeTarget(): Promise<KubeTarget> {
  const { KubeTarget } = await import("@riff/kubernetes/cli-target");
  return KubeTarget.connect(flags);
}

/**
 * The API that answers admin calls and messages: the home's daemon, or on Kubernetes riff's
 * gateway (`--gateway`) with the cluster's admin token, which gathers logs from every node.
 */
export async function apiClient(home: string): Promise<DaemonClient> {
  const { DaemonClient } = await import("./client.js");
  if (!onKubernetes()) return new DaemonClient(home);
  const target = await kubeTarget();
  return DaemonClient.remote(target.gateway(), await target.adminToken());
}
