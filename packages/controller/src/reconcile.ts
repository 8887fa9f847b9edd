import { sameRevision, sameTopology, type StoredFunction } from "./function-spec.js";

/** This node's share in reading a function's inputs: a member of its consumer groups, with a weight. */
export interface Membership {
  /** Partitions are dealt in proportion to it; 0: only when no member of weight > 0 is alive. */
  weight: number;
}

/** What should run of one function on this node. */
export interface DesiredFunction {
  fn: StoredFunction;
  /** undefined: this node does not read the function's inputs. */
  membership: Membership | undefined;
  /**
   * Replicas a placement asks of this node, with the placement's generation; undefined when
   * the local autoscaler decides (one daemon). A placement is applied once per generation:
   * between two, the runner may start a replica for a waiting message (0 -> 1) by itself.
   */
  replicas?: { count: number; generation: number } | undefined;
}

/** What runs of one function on this node. */
export interface ObservedFunction {
  fn: StoredFunction;
  membership: Membership | undefined;
  /** The placement generation last applied here. */
  placementGeneration: number | undefined;
}

/**
 * Where a reconciler's actions take effect: this process's runners (one daemon, a cluster
 * node), or Kubernetes Deployments (the Kubernetes controller). The reconciler only compares
 * and asks; the host knows how.
 */
export interface RunnerHost {
  /** What runs of `name` here; undefined when nothing does. */
  observe(name: string): ObservedFunction | undefined;
  /** The functions with something running here. */
  list(): { fn: StoredFunction }[];
  apply(action: Action): Promise<void>;
}

/** One step toward the desired state. */
export type Action =
  /** A runner for a new function (reading nothing yet). */
  | { type: "start"; fn: StoredFunction }
  /** New code or settings: replicas of the new revision take over from the old ones. */
  | { type: "roll"; fn: StoredFunction }
  /** New topics or ordering: the old runner stops and a new one starts. */
  | { type: "replace"; fn: StoredFunction }
  | { type: "stop"; name: string }
  /** Read the inputs (join the consumer groups), or change the weight. */
  | { type: "join"; name: string; weight: number }
  | { type: "leave"; name: string }
  | { type: "scale"; name: string; replicas: number; generation: number };

/**
 * The steps that take `observed` to `desired` for one function on one node. Pure, like the
 * autoscaler's `decide`: the same inputs give the same steps, whatever the store (files,
 * JetStream KV, Kubernetes) and whoever calls it (a watch event or a periodic resync).
 */
export function reconcileFunction(desired: DesiredFunction | undefined, observed: ObservedFunction | undefined): Action[] {
  if (desired === undefined) return observed === undefined ? [] : [{ type: "stop", name: observed.fn.name }];
  const { fn } = desired;
  const actions: Action[] = [];
  let membership = observed?.membership;
  let applied = observed?.placementGeneration;
  if (observed === undefined) {
    actions.push({ type: "start", fn });
    membership = undefined;
  } else if (!sameRevision(observed.fn, fn)) {
    if (sameTopology(observed.fn, fn)) actions.push({ type: "roll", fn });
    else {
      actions.push({ type: "replace", fn });
      membership = undefined;
      applied = undefined;
    }
  }
  const want = desired.membership;
  if (want === undefined && membership !== undefined) actions.push({ type: "leave", name: fn.name });
  if (want !== undefined && membership?.weight !== want.weight) actions.push({ type: "join", name: fn.name, weight: want.weight });
  const replicas = desired.replicas;
  if (replicas !== undefined && replicas.generation !== applied) {
    actions.push({ type: "scale", name: fn.name, replicas: replicas.count, generation: replicas.generation });
  }
  return actions;
}
