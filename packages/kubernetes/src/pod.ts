/**
 * The pieces every riff pod shares: a daemon's arguments, a locked-down security context, and the
 * labels Kubernetes' recommended-labels convention asks for.
 */
import type { InstallSettings } from "./settings.js";

/** Where a riff daemon in a pod keeps its home: an emptyDir, so the root filesystem stays read-only. */
export const POD_RIFF_HOME = "/var/lib/riff";
/** The port the daemon listens on in every riff pod. */
export const DAEMON_PORT = 8080;
/** The daemon's entry point inside riff's images. */
export const DAEMON_MAIN = "/opt/riff/packages/daemon/dist/main.js";

/**
 * The arguments of a riff daemon in a pod, joining the cluster on NATS under the pod's name. The
 * pod is the sandbox and Kubernetes enforces the limits, so riff's own (bubblewrap, cgroups)
 * are off; Kubernetes owns scaling, so the daemon's autoscaler is off too.
 */
export function daemonArgs(settings: InstallSettings, runs: string): string[] {
  return [
    "--home", POD_RIFF_HOME,
    "--host", "0.0.0.0",
    "--port", String(DAEMON_PORT),
    "--cluster", settings.natsUrl,
    "--cluster-name", settings.clusterName,
    "--node-name", "$(POD_NAME)",
    "--runs", runs,
    "--autoscaler", "off",
    "--sandbox", "none",
    "--limits", "none",
  ];
}

/** `POD_NAME`, which `$(POD_NAME)` in the arguments expands to. */
export const POD_NAME_ENV = { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } };

/** A container that cannot become root or write outside its volumes. */
export const CONTAINER_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 1000,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/** The emptyDir home volume and its mount. */
export const HOME_VOLUME = { name: "home", emptyDir: {} };
export const HOME_MOUNT = { name: "home", mountPath: POD_RIFF_HOME };

/** Readiness and liveness on the daemon's /healthz. */
export const HEALTH_PROBES = {
  readinessProbe: { httpGet: { path: "/healthz", port: DAEMON_PORT } },
  livenessProbe: { httpGet: { path: "/healthz", port: DAEMON_PORT } },
};

/** The daemon's HTTP port. */
export const HTTP_PORT = { name: "http", containerPort: DAEMON_PORT, protocol: "TCP" };

/** The recommended labels of one of riff's components. */
export function riffLabels(name: string, instance: string, managedBy: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/managed-by": managedBy,
    "app.kubernetes.io/part-of": "riff",
  };
}
