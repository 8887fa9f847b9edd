/** A function's recent log lines, as `riff logs` reads them. */
export interface LogHistory {
  /** Lines, oldest first, each ending in a newline. */
  text: string;
  /** In a cluster: the live nodes that did not answer in time, whose lines are missing. */
  unanswered?: string[];
}

/** The response header of `GET /functions/NAME/logs` naming the nodes whose lines are missing. */
export const LOGS_UNANSWERED_HEADER = "riff-logs-unanswered";

/** A riff node as `GET /nodes` answers and `riff nodes` shows it. */
export interface NodeRow {
  name: string;
  url: string;
  /**
   * `ok`; `nats-disconnected` while it cannot reach NATS; `left` once it stopped cleanly
   * (`riff system stop`, its partitions handed over); `gone` once its heartbeats stopped without a
   * goodbye (killed, paused or cut off: its leases expire before others take its partitions);
   * `unknown` for every other node while the node asked cannot reach NATS itself (it hears
   * nobody, which says nothing of them).
   */
  health: "ok" | "nats-disconnected" | "left" | "gone" | "unknown";
  leader: boolean;
  replicas: number;
  /** `function: topic/partition` that this node's replicas read now (claimed, not only dealt). */
  partitions: string[];
  version: string;
  startedAt: string;
  /** Which functions it runs (`riff system start --runs`): `all`, `none` or a function's name; absent for a node that left or is gone. */
  runs?: string;
  /** When it was last heard of, for a node that left or is gone. */
  lastSeen?: string;
}
