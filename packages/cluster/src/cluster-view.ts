import type { Peer } from "@riff/broker-nats";
import type { ReplicaSnapshot, RunnerSnapshot, RunnerStatus } from "@riff/runtime";

/** One function as one node runs it, in that node's heartbeat. */
export interface FunctionOnNode {
  revision: number;
  status: RunnerStatus;
  error?: string | undefined;
  shape?: "request-reply" | "stream" | undefined;
  replicas: ReplicaSnapshot[];
  inFlight: number;
  lastActivityAt: number;
  /** Whether this node reads the function's inputs, and with which weight. */
  weight: number | undefined;
  /** `topic/partition` keys this node holds. */
  assigned: string[];
  /** The generation (revision) of the placement this node applied last. */
  placement: number | undefined;
}

/** What a node says about itself every heartbeat. */
export interface NodeState {
  id: string;
  /** Its gateway and admin API. */
  url: string;
  version: string;
  startedAt: string;
  leader: boolean;
  nats: { connected: boolean; since: number; server?: string | undefined };
  functions: Record<string, FunctionOnNode>;
  /** Which functions it runs: `all`, `none` or one function's name. Absent from nodes older than it. */
  runs?: string;
}

/**
 * Whether the leader may place replicas on a node: only on one that runs whatever it is given
 * (`--runs all`); a gateway node or a function's pod would never start them.
 */
export function takesPlacements(node: Peer<NodeState>): boolean {
  return (node.state.runs ?? "all") === "all";
}

/** A replica as the cluster shows it: named `<node>/<replica>`, with its node. */
export type ClusterReplica = ReplicaSnapshot & { node: string };

/** A function over every live node: replicas summed, activity the latest, failures kept. */
export type ClusterSnapshot = RunnerSnapshot & {
  replicas: ClusterReplica[];
  /** Each node's part; `revision` is the one it runs, behind the store's for a while after an update. */
  nodes: Record<string, { revision: number; replicas: number; weight: number | undefined; assigned: string[] }>;
};

/** Sums what each live node runs of function `name`. */
export function aggregate(nodes: Peer<NodeState>[], name: string, revision: number): ClusterSnapshot {
  const out: ClusterSnapshot = {
    status: "idle",
    error: undefined,
    revision,
    replicas: [],
    shape: undefined,
    inFlight: 0,
    lastActivityAt: 0,
    assigned: [],
    nodes: {},
  };
  let looping = false;
  let failed = false;
  for (const { id, state } of nodes) {
    const f = state.functions[name];
    if (f === undefined) continue;
    out.replicas.push(...f.replicas.map((r) => ({ ...r, id: `${id}/${r.id}`, node: id, partitions: r.partitions })));
    out.inFlight += f.inFlight;
    out.lastActivityAt = Math.max(out.lastActivityAt, f.lastActivityAt);
    out.assigned.push(...f.assigned);
    out.shape ??= f.shape;
    out.nodes[id] = { revision: f.revision, replicas: f.replicas.length, weight: f.weight, assigned: f.assigned };
    looping ||= f.status === "looping";
    if (f.status === "failed") {
      failed = true;
      out.error ??= f.error === undefined ? undefined : `on node ${id}: ${f.error}`;
    }
  }
  out.assigned.sort();
  out.status = looping ? "looping" : out.replicas.length > 0 ? "running" : failed ? "failed" : "idle";
  return out;
}

/** How many replicas of every function a node runs: its load, for placing more. */
export function loadOf(state: NodeState): number {
  return Object.values(state.functions).reduce((sum, f) => sum + f.replicas.length, 0);
}
