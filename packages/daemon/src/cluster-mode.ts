import { rmSync, writeFileSync } from "node:fs";
import { RiffError, type Logger } from "@riff/core";
import { createNatsBroker, type NatsBroker } from "@riff/broker-nats";
import { ClusterNode, clusterViews, nodeRows, resolveClusterOptions, type FunctionOnNode } from "@riff/cluster";
import { sendJson, type ReplyHub } from "@riff/gateway";
import type { Route } from "./admin-api.js";
import type { ControllerParts } from "./controller-parts.js";
import { FunctionLogs } from "./function-logs.js";
import type { Mode } from "./mode.js";
import { natsAuth } from "./nats-auth.js";
import { runsLabel } from "./node-role.js";
import type { HomePaths, ResolvedDaemonOptions } from "./options.js";

/**
 * The daemon as one node of a riff cluster: topics on the cluster's NATS servers under the
 * cluster's name (shared by every node), functions, invokers and placements in its KV, code in
 * its object store, replies and logs across nodes, and the autoscaler on the elected leader.
 */
export async function clusterMode(o: { options: ResolvedDaemonOptions; paths: HomePaths; hub: ReplyHub; token: string; logger: Logger }): Promise<Mode> {
  const { options, paths, hub, logger } = o;
  const c = options.cluster;
  if (c === undefined) throw new RiffError("RIFF_INTERNAL", "cluster mode without a cluster");
  const auth = await natsAuth(c.nats);
  process.env["RIFF_NODE_NAME"] = c.node;
  // The cluster node first: the cluster's settings say how many copies topics get.
  const node = await ClusterNode.open(
    resolveClusterOptions({ servers: c.servers, cluster: c.name, node: c.node, cacheDir: paths.artifacts, replicas: c.replicas, auth, autoscaler: options.autoscaler, logger: logger.child({ component: "cluster" }) }),
    hub,
  );
  let broker: NatsBroker;
  try {
    const replicas = await node.sharedReplicas(c.replicas);
    broker = createNatsBroker({ servers: c.servers, prefix: c.name, instance: c.node, auth, replicas, logger: logger.child({ component: "broker" }) });
    await broker.start();
  } catch (err) {
    await node.stop();
    throw err;
  }
  // A token given in a file is the cluster's; else the first node's is everyone's.
  const token = options.tokenFile === undefined ? await node.adoptToken(o.token) : o.token;
  if (options.tokenFile !== undefined && (await node.offerToken(token))) {
    logger.info("this node's --token-file is now the cluster's admin token", { cluster: c.name });
  }
  if (token !== o.token) {
    writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
    logger.info("this node takes the cluster's admin token", { cluster: c.name });
  }
  const logs = new FunctionLogs(paths.logs, { node: c.node, tap: (fn, text) => node.publishLog(fn, text) });
  const routes: Route[] = [["GET", /^nodes$/, async (_q, res) => sendJson(res, 200, { cluster: c.name, nodes: nodeRows(node) })]];
  return {
    broker,
    stores: { functions: node.functions, invokers: node.invokers, secrets: node.secrets, keys: node.keys, topicRates: node.topicRates, artifacts: node.artifacts },
    placing: { placement: (name) => node.placements.of(name), claim: (name) => node.claim(name) },
    replies: node.replies,
    logs,
    token,
    replyNode: c.node,
    views: (parts) => clusterViews({ broker, catalog: parts.catalog, node }),
    logSource: () => node.logs,
    routes: () => routes,
    nodes: () => nodeRows(node),
    status: () => ({
      broker: options.broker,
      nats: broker.health(),
      cluster: { name: c.name, node: c.node, leader: node.live().find((p) => p.state.leader)?.id, nodes: node.live().length, replicas: broker.defaultReplicas },
    }),
    warnings() {
      const health = broker.health();
      if (health === undefined || health.connected) return [];
      return [`NATS is unreachable since ${new Date(health.since).toISOString()}: publishing answers 503 meanwhile; riff reconnects by itself`];
    },
    healthz(_req, res) {
      const health = broker.health();
      if (!health.connected) {
        sendJson(res, 503, { status: "unavailable", pid: process.pid, node: c.node, reason: `NATS unreachable since ${new Date(health.since).toISOString()}` });
        return;
      }
      sendJson(res, 200, { status: "ok", pid: process.pid, node: c.node });
    },
    start(parts, info) {
      // The next start without flags joins the same cluster as the same node.
      writeFileSync(paths.clusterChoice, `${JSON.stringify(c, null, 2)}\n`);
      rmSync(paths.brokerChoice, { force: true });
      node.start({
        catalog: parts.catalog,
        scaler: parts.scaler,
        reconcile: (name) => void parts.reconciler.reconcile(name),
        localLogs: logs,
        state: () => ({ url: info.url, version: info.version, startedAt: info.startedAt, nats: broker.health(), functions: functionsHere(parts), runs: runsLabel(options.runs) }),
      });
    },
    async stop() {
      await node.stop();
      await broker.stop();
    },
  };
}

/** What this node runs of each function, for its heartbeat. */
function functionsHere(parts: ControllerParts): Record<string, FunctionOnNode> {
  const out: Record<string, FunctionOnNode> = {};
  for (const { fn, runner } of parts.host.list()) {
    const snap = runner.snapshot();
    const observed = parts.host.observe(fn.name);
    out[fn.name] = {
      revision: fn.revision,
      status: snap.status,
      error: snap.error,
      shape: snap.shape,
      replicas: snap.replicas,
      inFlight: snap.inFlight,
      lastActivityAt: snap.lastActivityAt,
      weight: observed?.membership?.weight,
      assigned: snap.assigned,
      placement: observed?.placementGeneration,
    };
  }
  return out;
}
