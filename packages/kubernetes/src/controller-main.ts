/**
 * The controller's process entry, as the generated riff-controller Deployment runs it:
 * `node controller-main.js --nats URL --cluster-name riff --lease-namespace riff-system`.
 * Outside a pod, `--kubeconfig FILE` (and `--context`) say which cluster. It stops on SIGTERM,
 * giving its lease up so that a standby takes over at once.
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { RiffError, toRiffError, type Logger } from "@riff/core";
import { KubeController } from "./kube-controller.js";
import { ClientKubeApi, loadKubeConfig } from "./kube-client.js";
import { DEFAULT_INSTALL_SETTINGS, RIFF_SYSTEM_NAMESPACE } from "./settings.js";

const USAGE = `usage: controller-main.js [--kubeconfig FILE] [--context NAME] [--nats URLS] [--cluster-name NAME]
  [--lease-namespace NS] [--lease-name NAME] [--identity ID] [--namespace NS]
  [--image-prefix PREFIX] [--version TAG] [--lease-duration SECONDS] [--log-level info|debug]

example: node controller-main.js --kubeconfig ~/.kube/config --nats nats://127.0.0.1:4222`;

function jsonLogger(level: "info" | "debug", fields: Record<string, unknown> = {}): Logger {
  const write = (lvl: string, msg: string, extra?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields, ...extra })}\n`);
  return {
    debug: (msg, extra) => (level === "debug" ? write("debug", msg, extra) : undefined),
    info: (msg, extra) => write("info", msg, extra),
    warn: (msg, extra) => write("warn", msg, extra),
    error: (msg, extra) => write("error", msg, extra),
    child: (more) => jsonLogger(level, { ...fields, ...more }),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      context: { type: "string" },
      nats: { type: "string" },
      "cluster-name": { type: "string" },
      "lease-namespace": { type: "string" },
      "lease-name": { type: "string" },
      "lease-duration": { type: "string" },
      identity: { type: "string" },
      namespace: { type: "string" },
      "image-prefix": { type: "string" },
      version: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const leaseSeconds = Number(values["lease-duration"] ?? 6);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 2) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--lease-duration ${values["lease-duration"]}: use a whole number of seconds, at least 2`, { hint: "e.g. --lease-duration 6" });
  }
  const logger = jsonLogger(values["log-level"] === "debug" ? "debug" : "info", { component: "riff-controller" });
  const settings = {
    natsUrl: values.nats ?? DEFAULT_INSTALL_SETTINGS.natsUrl,
    clusterName: values["cluster-name"] ?? DEFAULT_INSTALL_SETTINGS.clusterName,
    imagePrefix: values["image-prefix"] ?? DEFAULT_INSTALL_SETTINGS.imagePrefix,
    version: values.version ?? DEFAULT_INSTALL_SETTINGS.version,
  };
  // A bug in one reconcile must not stop every other: log it loudly and keep going, as the daemon does.
  process.on("unhandledRejection", (err) => logger.error("unhandled rejection (a bug in riff)", { err: String(err), stack: (err as Error | undefined)?.stack }));
  const api = new ClientKubeApi(loadKubeConfig({ kubeconfig: values.kubeconfig, context: values.context }));
  const controller = await KubeController.open({
    api,
    servers: settings.natsUrl.split(","),
    settings,
    identity: values.identity ?? process.env["POD_NAME"] ?? `${hostname()}-${process.pid}`,
    lease: {
      namespace: values["lease-namespace"] ?? RIFF_SYSTEM_NAMESPACE,
      name: values["lease-name"] ?? "riff-controller",
      timing: { leaseDurationMs: leaseSeconds * 1000, marginMs: Math.min(2000, leaseSeconds * 330), retryPeriodMs: Math.min(1000, leaseSeconds * 160) },
    },
    namespace: values.namespace,
    logger,
  });
  controller.start();
  logger.info("riff controller started", { nats: settings.natsUrl, cluster: settings.clusterName, pid: process.pid });
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => resolve());
  });
  logger.info("stopping");
  await controller.stop();
  process.exit(0);
}

main().catch((err: unknown) => {
  const e = toRiffError(err);
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: e.message, code: e.code, hint: e.hint })}\n`);
  process.exit(1);
});
