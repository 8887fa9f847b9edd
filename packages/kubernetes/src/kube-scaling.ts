import type { Logger } from "@riff/core";
import type { Peer } from "@riff/broker-nats";
import { aggregate, type NodeState } from "@riff/cluster";
import type { FunctionCatalog, Scaler, ScaleTarget, StoredFunction } from "@riff/controller";
import type { ReplicaSnapshot } from "@riff/runtime";
import type { DeploymentHost } from "./deployment-host.js";
import type { KubeFunctionSource } from "./function-source.js";
import { FUNCTIONS, type KubeApi } from "./kube-api.js";
import type { EventRecorder, StatusWriter } from "./status.js";

/** What {@link KubeScaling} needs. */
export interface KubeScalingOptions {
  api: KubeApi;
  catalog: FunctionCatalog;
  host: DeploymentHost;
  source: KubeFunctionSource;
  scaler: Scaler;
  /** The riff nodes heard from: the function pods say what their replica handles. */
  live: () => Peer<NodeState>[];
  status: StatusWriter;
  events: EventRecorder;
  may: () => boolean;
  logger: Logger;
}

/**
 * riff's autoscaler on Kubernetes: each round, every deployed function is observed as the
 * cluster mode observes it (the topic lag from NATS; rates, in-flight counts and activity from
 * the pods' heartbeats), the same `decide()` answers, and the answer is written to the
 * Deployment's /scale. Pods asked for and not yet heard from count as starting replicas, so a
 * Deployment's count is what the autoscaler compares with: 0 -> N -> 0, N at most the partitions.
 */
export class KubeScaling {
  constructor(private readonly o: KubeScalingOptions) {}

  async tick(now = Date.now()): Promise<void> {
    const nodes = this.o.live();
    const targets: ScaleTarget[] = [];
    const counts = new Map<string, { replicas: number; current: number }>();
    for (const fn of this.o.catalog.list()) {
      const namespace = this.o.host.namespaceOf(fn.name);
      if (namespace === undefined) continue;
      const scale = await this.o.api.getScale(namespace, fn.name).catch(() => undefined);
      if (scale === undefined) continue;
      counts.set(fn.name, scale);
      targets.push({
        fn,
        snapshot: snapshotOf(fn, nodes, scale.replicas),
        scaleTo: (desired, decision) => {
          // A pod still running after its Deployment was scaled down (it is terminating) makes
          // the autoscaler ask for the count the Deployment has already: nothing to write or tell.
          if (!this.o.may() || desired === scale.replicas) return;
          void this.o.api.setScale(namespace, fn.name, desired).then(
            () => {
              const cr = this.o.source.resource(fn.name)?.cr;
              if (cr !== undefined) void this.o.events.record(cr, "Normal", "Scaled", `replicas ${scale.replicas} -> ${desired}: ${decision.reason}`);
            },
            // The next round asks again.
            (err: unknown) => this.o.logger.warn("could not scale a Deployment", { fn: fn.name, replicas: desired, err: String(err) }),
          );
        },
      });
    }
    await this.o.scaler.tick(targets, now);
    for (const t of targets) {
      const cr = this.o.source.resource(t.fn.name)?.cr;
      const seen = this.o.scaler.observed(t.fn.name);
      const count = counts.get(t.fn.name);
      if (cr === undefined || count === undefined || !this.o.may()) continue;
      await this.o.status.write(FUNCTIONS, cr, {
        fields: { replicas: count.replicas, readyReplicas: count.current, ...(seen === undefined ? {} : { lag: seen.lag, maxReplicas: seen.maxReplicas }) },
      });
    }
  }
}

/**
 * The function over every pod that runs it, padded with starting replicas up to the
 * Deployment's count: a pod scheduled and not yet heard from is a replica on its way.
 */
function snapshotOf(fn: StoredFunction, nodes: Peer<NodeState>[], asked: number): ScaleTarget["snapshot"] {
  const snap = aggregate(nodes, fn.name, fn.revision);
  const replicas: ReplicaSnapshot[] = [...snap.replicas];
  for (let i = replicas.length; i < asked; i++) {
    replicas.push({ id: `pod-${i + 1}`, pid: undefined, state: "starting", startedAt: 0, handled: 0, inFlight: 0, partitions: [] });
  }
  return { status: snap.status, replicas, inFlight: snap.inFlight, lastActivityAt: snap.lastActivityAt };
}
