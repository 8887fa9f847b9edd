import type { ReplicaSet } from "./replica-set.js";
import type { RunnerSnapshot, RunnerStatus } from "./runner-types.js";

/** What a runner knows beyond its replicas, for {@link snapshotOf}. */
export interface RunnerCounts {
  /** Messages reached the hop limit here recently. */
  looping: boolean;
  /** Partitions each replica holds, by replica id. */
  assignments: Map<string, string[]>;
  /** Dispatched, waiting for a replica, or waiting out a retry's backoff. */
  inFlight: number;
  lastActivityAt: number;
  assigned: string[];
}

/** A runner as `riff list`, `riff describe` and the autoscaler see it. */
export function snapshotOf(replicaSet: ReplicaSet, c: RunnerCounts): RunnerSnapshot {
  const replicas = replicaSet.all;
  let status: RunnerStatus = replicas.length > 0 ? "running" : "idle";
  if (c.looping) status = "looping";
  const error = replicaSet.lastError;
  if (error !== undefined) status = "failed";
  else if (replicaSet.crashLooping) status = "crash-looping";
  return {
    status,
    error,
    revision: replicaSet.revision,
    shape: replicas.find((r) => r.shape !== undefined)?.shape,
    replicas: replicas.map((r) => ({
      id: r.id,
      pid: r.pid,
      state: r.state,
      startedAt: r.startedAt,
      handled: r.handled,
      inFlight: r.inFlight,
      partitions: c.assignments.get(r.id) ?? [],
    })),
    inFlight: c.inFlight,
    lastActivityAt: c.lastActivityAt,
    assigned: c.assigned,
    lastExit: replicaSet.lastExit,
  };
}
