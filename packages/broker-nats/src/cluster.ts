import type { ServerInfo } from "nats";

/** What the server riff is connected to says about its cluster. */
export interface ClusterView {
  /** The cluster's name; undefined for a server outside any cluster. */
  name: string | undefined;
  /** Servers the cluster advertises to clients, this one included; 1 outside a cluster. */
  size: number;
  /** The server connected to, `host:port`. */
  server: string;
}

/**
 * Reads the cluster from the server's INFO, which nats.js keeps current: a server in a cluster
 * sets `cluster` and lists in `connect_urls` the client address of every server routed to it,
 * its own included (checked on nats-server 2.9.10: 3 URLs on a 3-node cluster, 2 with one
 * node down, no `cluster` on a lone server). A server configured with `no_advertise` lists
 * none; riff then counts 1, and only an explicit `replicas: 3` option makes topics R3. Pure.
 */
export function clusterOf(info: ServerInfo | undefined, server: string): ClusterView {
  if (info?.cluster === undefined || info.cluster === "") return { name: undefined, size: 1, server };
  return { name: info.cluster, size: Math.max(1, new Set(info.connect_urls ?? []).size), server };
}

/** The most copies a topic may ask for: 3 on a cluster of 3 or more servers, else 1. */
export function capacityOf(view: ClusterView): number {
  return view.size >= 3 ? 3 : 1;
}

/** The cluster in words, for error messages. */
export function describeCluster(view: ClusterView): string {
  if (view.name === undefined) return `the NATS server at ${view.server} is not in a cluster (cluster size 1)`;
  return `NATS cluster '${view.name}' has ${view.size} server${view.size === 1 ? "" : "s"} (cluster size ${view.size})`;
}
