/** A riff node as `GET /nodes` answers and `riff nodes` shows it. */
export interface NodeRow {
  name: string;
  url: string;
  /** `ok`; `nats-disconnected` while it cannot reach NATS; `gone` once its heartbeats stopped. */
  health: "ok" | "nats-disconnected" | "gone";
  leader: boolean;
  replicas: number;
  /** `function: topic/partition` that this node's replicas read now (claimed, not only dealt). */
  partitions: string[];
  version: string;
  startedAt: string;
  /** Which functions it runs (`riff system start --runs`): `all`, `none` or a function's name; absent for a node that is gone. */
  runs?: string;
  /** When it was last heard of, for a node that is gone. */
  lastSeen?: string;
}
