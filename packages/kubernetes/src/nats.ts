/**
 * A 3-server NATS JetStream cluster in riff-system, for installs that name no NATS of their own.
 * Three servers because JetStream needs a quorum: riff's topics then keep 3 copies (replicas 3)
 * and survive the loss of one server. Each server keeps its streams on its own volume.
 */
import { CONTAINER_SECURITY_CONTEXT, POD_NAME_ENV, riffLabels } from "./pod.js";
import { RIFF_SYSTEM_NAMESPACE } from "./settings.js";

/** The NATS image: 2.9, the line riff's tests run against. */
export const NATS_IMAGE = "nats:2.9.25-alpine";
/** Servers in the cluster. */
export const NATS_SERVERS = 3;
const NAME = "riff-nats";
const HEADLESS = "riff-nats-cluster";
/** Disk per server for JetStream's streams. */
const STORAGE = "10Gi";

/**
 * The server configuration. Routes name every server by its stable StatefulSet DNS name, so each
 * finds the others whatever pod IPs they get; `$POD_NAME` is NATS' own environment substitution.
 */
export function natsConfig(): string {
  const routes = Array.from({ length: NATS_SERVERS }, (_, i) => `    nats://${NAME}-${i}.${HEADLESS}.${RIFF_SYSTEM_NAMESPACE}.svc:6222`);
  return [
    "port: 4222",
    "http_port: 8222",
    "server_name: $POD_NAME",
    "lame_duck_duration: 30s",
    "# riff's largest message (1 MiB, --max-body-bytes) with its headers: NATS' default is 1 MB.",
    "max_payload: 2MB",
    "jetstream {",
    "  store_dir: /data/jetstream",
    "}",
    "cluster {",
    `  name: ${NAME}`,
    "  port: 6222",
    "  routes: [",
    ...routes,
    "  ]",
    "}",
    "",
  ].join("\n");
}

/** ConfigMap, Services and StatefulSet of the NATS cluster. */
export function natsManifests(): object[] {
  const labels = riffLabels("nats", NAME, "riff-cli");
  const selector = { "app.kubernetes.io/name": "nats", "app.kubernetes.io/instance": NAME };
  const metadata = (name: string) => ({ name, namespace: RIFF_SYSTEM_NAMESPACE, labels });
  const port = (name: string, n: number) => ({ name, port: n, targetPort: n, protocol: "TCP" });
  return [
    { apiVersion: "v1", kind: "ConfigMap", metadata: metadata(`${NAME}-config`), data: { "nats.conf": natsConfig() } },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: metadata(HEADLESS),
      spec: {
        clusterIP: "None",
        // Servers must find each other before any is ready: readiness needs the routes up.
        publishNotReadyAddresses: true,
        selector,
        ports: [port("client", 4222), port("cluster", 6222), port("monitor", 8222)],
      },
    },
    { apiVersion: "v1", kind: "Service", metadata: metadata(NAME), spec: { selector, ports: [port("client", 4222)] } },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: metadata(NAME),
      spec: {
        serviceName: HEADLESS,
        replicas: NATS_SERVERS,
        // All at once: a server waits for a quorum, so starting them one by one would stall.
        podManagementPolicy: "Parallel",
        selector: { matchLabels: selector },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 60,
            securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
            volumes: [{ name: "config", configMap: { name: `${NAME}-config` } }],
            containers: [
              {
                name: "nats",
                image: NATS_IMAGE,
                args: ["--config", "/etc/nats/nats.conf"],
                env: [POD_NAME_ENV],
                ports: [
                  { name: "client", containerPort: 4222, protocol: "TCP" },
                  { name: "cluster", containerPort: 6222, protocol: "TCP" },
                  { name: "monitor", containerPort: 8222, protocol: "TCP" },
                ],
                volumeMounts: [
                  { name: "config", mountPath: "/etc/nats", readOnly: true },
                  { name: "data", mountPath: "/data" },
                ],
                readinessProbe: { httpGet: { path: "/healthz", port: 8222 } },
                livenessProbe: { httpGet: { path: "/healthz?js-enabled-only=true", port: 8222 }, initialDelaySeconds: 10 },
                securityContext: CONTAINER_SECURITY_CONTEXT,
              },
            ],
          },
        },
        volumeClaimTemplates: [
          { metadata: { name: "data", labels }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: STORAGE } } } },
        ],
      },
    },
  ];
}
