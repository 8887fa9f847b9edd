import type { Broker } from "@riff/broker";
import type { NodeRow } from "@riff/core";
import { decisionsSince, functionView, type FunctionCatalog, type FunctionViews } from "@riff/controller";
import type { ClusterNode } from "./cluster-node.js";
import { aggregate, loadOf } from "./cluster-view.js";

/**
 * Function views over the whole cluster, for any node's `riff list` and `riff describe`: the
 * replicas of every live node (named `<node>/<replica>`), the placement and why, and the
 * leader's rates and decisions.
 */
export function clusterViews(o: { broker: Broker; catalog: FunctionCatalog; node: ClusterNode }): FunctionViews {
  const view = (name: string) => {
    const fn = o.catalog.get(name)?.value;
    if (fn === undefined) return undefined;
    const placement = o.node.placements.get(name)?.value;
    const desired = placement === undefined ? undefined : Object.values(placement.nodes).reduce((a, b) => a + b, 0);
    return { fn, placement, view: functionView(o.broker, fn, aggregate(o.node.live(), name, fn.revision), desired) };
  };
  return {
    list: () => Promise.all(o.catalog.names().flatMap((n) => view(n)?.view ?? [])),
    async get(name) {
      const v = view(name);
      if (v === undefined) return undefined;
      const [base, leader] = await Promise.all([v.view, o.node.askLeader(name)]);
      return { ...base, ...leader, decisions: decisionsSince(leader.decisions, base.createdAt), placement: v.placement };
    },
  };
}

/** A node heard this long before this one lost NATS may have fallen silent for the same reason. */
const SILENCE_MARGIN_MS = 5000;

/** Every live node, then those that left or fell silent since this node started. */
export function nodeRows(node: ClusterNode): NodeRow[] {
  // Cut off from NATS, this node hears nobody: the others fell silent to it, not necessarily
  // to the cluster. Those last heard since it lost NATS (or about to be) are unknown, not gone.
  const own = node.health();
  const deafSince = own.connected ? undefined : own.since - SILENCE_MARGIN_MS;
  const healthOf = (id: string, connected: boolean): NodeRow["health"] => {
    if (id === node.id) return connected && own.connected ? "ok" : "nats-disconnected";
    if (deafSince !== undefined) return "unknown";
    return connected ? "ok" : "nats-disconnected";
  };
  const rows: NodeRow[] = node.live().map(({ id, state }) => ({
    name: id,
    url: state.url,
    health: healthOf(id, state.nats.connected),
    leader: state.leader,
    replicas: loadOf(state),
    partitions: Object.entries(state.functions).flatMap(([fn, f]) => f.assigned.map((a) => `${fn}: ${a}`)),
    version: state.version,
    startedAt: state.startedAt,
    runs: state.runs ?? "all",
  }));
  for (const [id, { how, lastHeardAt }] of node.recentlyGone()) {
    const health = how === "left" ? "left" : deafSince !== undefined && lastHeardAt >= deafSince ? "unknown" : "gone";
    rows.push({ name: id, url: "", health, leader: false, replicas: 0, partitions: [], version: "", startedAt: "", lastSeen: new Date(lastHeardAt).toISOString() });
  }
  return rows;
}
