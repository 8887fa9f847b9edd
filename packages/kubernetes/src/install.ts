/**
 * The manifests of `riff system install --kubernetes`: riff's CRDs, the controller with
 * least-privilege RBAC, the gateway, and (unless an existing NATS is named) a 3-server NATS
 * JetStream cluster. Pure: the CLI prints them for `kubectl apply --server-side -f -`.
 */
import { riffCrds, RIFF_GROUP } from "./crds.js";
import { natsManifests } from "./nats.js";
import { CONTAINER_SECURITY_CONTEXT, daemonArgs, DAEMON_MAIN, HEALTH_PROBES, HOME_MOUNT, HOME_VOLUME, HTTP_PORT, POD_NAME_ENV, riffLabels } from "./pod.js";
import { DEFAULT_INSTALL_SETTINGS, RIFF_SYSTEM_NAMESPACE, type InstallSettings } from "./settings.js";

/** Options of {@link installManifests}. */
export interface InstallOptions {
  /** An existing NATS JetStream URL; then no NATS is installed. @default a 3-server cluster in riff-system */
  nats?: string | undefined;
  /** @default "riff" */
  imagePrefix?: string | undefined;
  /** @default "0.1.0" (riff's version) */
  version?: string | undefined;
  /** @default "riff" */
  clusterName?: string | undefined;
  /** The riff cluster's admin token, stored in the `riff-admin` Secret. No default: it is a secret. */
  token: string;
}

/** The admin token's Secret, mounted into the gateway. */
export const ADMIN_SECRET = "riff-admin";
const CONTROLLER = "riff-controller";
const GATEWAY = "riff-gateway";
const TOKEN_DIR = "/etc/riff/admin";

/** The settings the manifests are rendered with: the options over the defaults. */
export function resolveInstallSettings(options: Omit<InstallOptions, "token">): InstallSettings {
  return {
    natsUrl: options.nats ?? DEFAULT_INSTALL_SETTINGS.natsUrl,
    clusterName: options.clusterName ?? DEFAULT_INSTALL_SETTINGS.clusterName,
    imagePrefix: options.imagePrefix ?? DEFAULT_INSTALL_SETTINGS.imagePrefix,
    version: options.version ?? DEFAULT_INSTALL_SETTINGS.version,
  };
}

/** Metadata of an object in riff-system. */
function meta(name: string, component: string): { name: string; namespace: string; labels: Record<string, string> } {
  return { name, namespace: RIFF_SYSTEM_NAMESPACE, labels: riffLabels(component, component, "riff-cli") };
}

/** The controller's cluster-wide rights: riff's resources, Deployments and their scale, events. Nothing else. */
function controllerRbac(): object[] {
  const kinds = ["functions", "topics", "invokers"];
  const clusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: CONTROLLER, labels: riffLabels(CONTROLLER, CONTROLLER, "riff-cli") },
    rules: [
      { apiGroups: [RIFF_GROUP], resources: kinds, verbs: ["get", "list", "watch"] },
      { apiGroups: [RIFF_GROUP], resources: kinds.map((k) => `${k}/status`), verbs: ["get", "update", "patch"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
      { apiGroups: ["apps"], resources: ["deployments/scale"], verbs: ["get", "update", "patch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    ],
  };
  const subjects = [{ kind: "ServiceAccount", name: CONTROLLER, namespace: RIFF_SYSTEM_NAMESPACE }];
  // Leader election needs leases in riff-system only, so a Role, not a ClusterRole.
  const leaseRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(`${CONTROLLER}-leader-election`, CONTROLLER),
    rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }],
  };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(CONTROLLER, CONTROLLER), automountServiceAccountToken: true },
    clusterRole,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: CONTROLLER, labels: clusterRole.metadata.labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: CONTROLLER },
      subjects,
    },
    leaseRole,
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(leaseRole.metadata.name, CONTROLLER),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: leaseRole.metadata.name },
      subjects,
    },
  ];
}

/** A Deployment in riff-system running riff's own image. */
function systemDeployment(name: string, pod: { command: string[]; args: string[]; serviceAccountName?: string; volumes?: object[]; extra?: Record<string, unknown> }, settings: InstallSettings): object {
  const selector = { "app.kubernetes.io/name": name };
  const { labels } = meta(name, name);
  const token = pod.serviceAccountName === undefined ? { automountServiceAccountToken: false } : { serviceAccountName: pod.serviceAccountName };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(name, name),
    spec: {
      // Two: one takes over when the other's node goes (the controller through its lease).
      replicas: 2,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          ...token,
          terminationGracePeriodSeconds: 30,
          // The group of mounted Secret files, so user 1000 can read a 0400 token (kubelet adds g+r).
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [
            {
              name,
              image: `${settings.imagePrefix}/riff:${settings.version}`,
              command: pod.command,
              args: pod.args,
              env: [POD_NAME_ENV],
              securityContext: CONTAINER_SECURITY_CONTEXT,
              ...pod.extra,
            },
          ],
          ...(pod.volumes === undefined ? {} : { volumes: pod.volumes }),
        },
      },
    },
  };
}

/** The gateway: riff daemons that run no function and answer /messages, /requests and the API. */
function gateway(settings: InstallSettings): object[] {
  const deployment = systemDeployment(
    GATEWAY,
    {
      command: ["node", DAEMON_MAIN],
      args: [...daemonArgs(settings, "none"), "--token-file", `${TOKEN_DIR}/token`],
      volumes: [HOME_VOLUME, { name: "admin", secret: { secretName: ADMIN_SECRET, defaultMode: 0o400 } }],
      extra: { ports: [HTTP_PORT], volumeMounts: [HOME_MOUNT, { name: "admin", mountPath: TOKEN_DIR, readOnly: true }], ...HEALTH_PROBES },
    },
    settings,
  );
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(GATEWAY, GATEWAY),
    spec: { selector: { "app.kubernetes.io/name": GATEWAY }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
  };
  return [deployment, service];
}

/**
 * Every object `riff system install --kubernetes` applies, in an order `kubectl apply` can take
 * in one pass: the Namespace first, the CRDs, RBAC, the Secret, then the workloads.
 */
export function installManifests(options: InstallOptions): object[] {
  const settings = resolveInstallSettings(options);
  const controller = systemDeployment(
    CONTROLLER,
    {
      command: ["node", "/opt/riff/packages/kubernetes/dist/controller-main.js"],
      args: [
        "--nats", settings.natsUrl,
        "--cluster-name", settings.clusterName,
        "--lease-namespace", RIFF_SYSTEM_NAMESPACE,
        "--image-prefix", settings.imagePrefix,
        "--version", settings.version,
      ],
      serviceAccountName: CONTROLLER,
    },
    settings,
  );
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: RIFF_SYSTEM_NAMESPACE, labels: { "app.kubernetes.io/part-of": "riff" } } },
    ...riffCrds(),
    ...controllerRbac(),
    { apiVersion: "v1", kind: "Secret", metadata: meta(ADMIN_SECRET, GATEWAY), type: "Opaque", stringData: { token: options.token } },
    ...(options.nats === undefined ? natsManifests() : []),
    controller,
    ...gateway(settings),
  ];
  // Fresh objects throughout: shared constants would become YAML anchors, and a caller may mutate.
  return structuredClone(objects);
}
