import { RiffError, silentLogger, type Logger } from "@riff/core";
import type { NatsAuth } from "@riff/broker-nats";

/** @default "riff": the name every node of one riff cluster shares (the prefix of its streams, buckets and subjects). */
export const DEFAULT_CLUSTER_NAME = "riff";

/** Timing of a cluster's control plane; see docs/cluster.md for why these values. */
export interface ClusterTiming {
  /** @default 500: a heartbeat every half second. */
  heartbeatMs: number;
  /** @default 2500: a node not heard from for this long is gone (five heartbeats). */
  nodeTimeoutMs: number;
  /** @default 4000: an unrenewed leader lease expires this long after its last renewal. */
  leaderTtlMs: number;
  /** @default 1000 */
  leaderRenewMs: number;
  /** @default 1000: a holder stops acting this long before its lease can expire. */
  marginMs: number;
  /** @default 250: the leader's autoscaling rounds. */
  scaleIntervalMs: number;
}

export const DEFAULT_CLUSTER_TIMING: ClusterTiming = {
  heartbeatMs: 500,
  nodeTimeoutMs: 2500,
  leaderTtlMs: 4000,
  leaderRenewMs: 1000,
  marginMs: 1000,
  scaleIntervalMs: 250,
};

/** Options of a cluster node. */
export interface ClusterOptions {
  /** NATS URLs of the cluster's servers. */
  servers: string[];
  /** @default DEFAULT_CLUSTER_NAME */
  cluster?: string;
  /** This node's name, unique in the cluster. */
  node: string;
  /** Where this node keeps the function code it fetched. */
  cacheDir: string;
  /** Copies of the cluster's buckets: 1 or 3. @default what the NATS cluster allows (3 on 3 or more servers) */
  replicas?: number | undefined;
  /** @default 5000 */
  timeoutMs?: number;
  auth?: NatsAuth;
  timing?: Partial<ClusterTiming>;
  /** Whether the leader runs the cluster's autoscaler rounds; off under Kubernetes, which sets replica counts. @default true */
  autoscaler?: boolean;
  logger?: Logger;
}

/** {@link ClusterOptions} with every default applied. */
export interface ClusterOptionsResolved {
  servers: string[];
  cluster: string;
  node: string;
  cacheDir: string;
  replicas: number | undefined;
  timeoutMs: number;
  auth: NatsAuth;
  timing: ClusterTiming;
  autoscaler: boolean;
  logger: Logger;
}

/** Letters, digits and '-': a subject token, a KV key part and a bucket-name part. */
const NAME = /^[A-Za-z0-9-]{1,32}$/;
const NODE = /^[A-Za-z0-9-]{1,63}$/;

/** Applies the defaults and checks the names. Pure. */
export function resolveClusterOptions(o: ClusterOptions): ClusterOptionsResolved {
  const cluster = o.cluster ?? DEFAULT_CLUSTER_NAME;
  if (!NAME.test(cluster)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--cluster-name ${cluster}: use 1 to 32 letters, digits or '-'`, { hint: "e.g. --cluster-name riff-prod" });
  }
  if (!NODE.test(o.node)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--node-name ${o.node}: use 1 to 63 letters, digits or '-'`, { hint: "e.g. --node-name n1" });
  }
  return {
    servers: o.servers,
    cluster,
    node: o.node,
    cacheDir: o.cacheDir,
    replicas: o.replicas,
    timeoutMs: o.timeoutMs ?? 5000,
    auth: o.auth ?? {},
    timing: { ...DEFAULT_CLUSTER_TIMING, ...o.timing },
    autoscaler: o.autoscaler ?? true,
    logger: o.logger ?? silentLogger,
  };
}
