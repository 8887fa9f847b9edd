import type { Peer } from "@riff/broker-nats";
import { place, samePlacement, type FunctionCatalog, type NodeLoad, type Placement, type Scaler, type StoredFunction } from "@riff/controller";
import { aggregate, loadOf, type NodeState } from "./cluster-view.js";
import type { PlacementBook } from "./placement-book.js";

/**
 * The leader's round over every function: the autoscaler's `decide()` on the sums over every
 * live node (replicas, in flight, activity) and on the topic's lag, and the decision placed on
 * the least loaded live nodes. It also repairs placements: a node that left loses its replicas
 * to live nodes, a standby is kept, and replicas a standby started by itself for a message are
 * written down, so the placement says what runs.
 */
export class ClusterScaler {
  constructor(
    private readonly scaler: Scaler,
    private readonly catalog: FunctionCatalog,
    private readonly placements: PlacementBook,
    private readonly live: () => Peer<NodeState>[],
  ) {}

  async tick(now = Date.now()): Promise<void> {
    const nodes = this.live();
    const loads: NodeLoad[] = nodes.map((n) => ({ id: n.id, replicas: loadOf(n.state) }));
    const at = new Date(now).toISOString();
    const functions = this.catalog.list();
    await this.scaler.tick(
      functions.map((fn) => ({
        fn,
        snapshot: aggregate(nodes, fn.name, fn.revision),
        scaleTo: (desired: number, decision: { reason: string }) => {
          const next = place(desired, this.actual(fn, nodes), loads, decision.reason, at);
          if (!samePlacement(next, this.placements.get(fn.name)?.value)) void this.placements.write(fn.name, next);
        },
      })),
      now,
    );
    await Promise.all(functions.map((fn) => this.repair(fn, nodes, loads, at)));
  }

  /** The placement as it should be kept, given what runs and who is alive. */
  private async repair(fn: StoredFunction, nodes: Peer<NodeState>[], loads: NodeLoad[], at: string): Promise<void> {
    const current = this.placements.get(fn.name)?.value;
    const actual = this.actual(fn, nodes);
    const total = Object.values(actual.nodes).reduce((a, b) => a + b, 0);
    const liveIds = new Set(nodes.map((n) => n.id));
    const gone = Object.keys(current?.nodes ?? {}).filter((id) => !liveIds.has(id));
    const started = Object.entries(actual.nodes).filter(([id, n]) => n > (current?.nodes[id] ?? 0)).map(([id]) => id);
    const next = place(total, actual, loads, "", at);
    if (samePlacement(next, current)) return;
    const spread = Object.entries(next.nodes).filter(([id, n]) => n > 0 && (current?.nodes[id] ?? 0) === 0 && !started.includes(id)).map(([id]) => id);
    let reason = current === undefined ? "first placement" : "a standby node is kept";
    if (gone.length > 0) reason = `node ${gone.join(", ")} left the cluster`;
    else if (started.length > 0) reason = `a message started a replica on node ${started.join(", ")}`;
    else if (spread.length > 0) reason = `replicas spread to node ${spread.join(", ")} (it joined or came back)`;
    await this.placements.write(fn.name, { ...next, reason });
  }

  /**
   * The placement with each node's count raised to what it runs (a standby may have started
   * a replica by itself), judged only from nodes that have applied the current placement: an
   * older heartbeat still shows replicas being stopped. Counts a node has not reached yet
   * (replicas starting) are kept.
   */
  private actual(fn: StoredFunction, nodes: Peer<NodeState>[]): Placement {
    const known = this.placements.get(fn.name);
    const current = known?.value;
    const counts: Record<string, number> = { ...(current?.nodes ?? {}) };
    for (const { id, state } of nodes) {
      const f = state.functions[fn.name];
      if (f === undefined || (known !== undefined && f.placement !== known.revision)) continue;
      if (f.replicas.length > (counts[id] ?? 0)) counts[id] = f.replicas.length;
    }
    return { nodes: counts, reason: current?.reason ?? "", at: current?.at ?? "" };
  }
}
