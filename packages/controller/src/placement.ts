/**
 * Where a function's replicas run in a cluster: how many on each node. A node listed with 0 runs
 * none but reads the function's inputs as a standby: it starts a replica itself when a message
 * comes while no node with replicas is alive, so losing a node does not wait for the leader.
 */
export interface Placement {
  nodes: Record<string, number>;
  /** Why it is so, for `riff describe`. */
  reason: string;
  /** When it was decided (ISO time). */
  at: string;
}

/** A live node and how busy it is: its replicas of every function. */
export interface NodeLoad {
  id: string;
  replicas: number;
}

/**
 * Places `desired` replicas of one function on the `live` nodes. Pure. Replicas stay where
 * they are when they can; new ones go to the node running the fewest of this function, then
 * the least loaded; removals come from the node running the most, then the most loaded. Then
 * the counts are evened out (a node that came back gets its share again): no live node runs
 * two more replicas of the function than another. One more node, if there is one, is kept as
 * a standby (0 replicas); at 0 replicas a single node stays the function's home, preferably
 * one that ran it.
 */
export function place(desired: number, current: Placement | undefined, live: NodeLoad[], reason: string, at: string): Placement {
  if (live.length === 0) return current ?? { nodes: {}, reason, at };
  const alive = new Map(live.map((n) => [n.id, n.replicas]));
  const counts = new Map<string, number>();
  for (const [id, n] of Object.entries(current?.nodes ?? {})) if (alive.has(id) && n > 0) counts.set(id, n);
  const total = () => [...counts.values()].reduce((a, b) => a + b, 0);
  const load = (id: string) => alive.get(id) ?? 0;
  while (total() < desired) {
    const [best] = [...alive.keys()].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || load(a) - load(b) || a.localeCompare(b));
    if (best === undefined) break;
    counts.set(best, (counts.get(best) ?? 0) + 1);
  }
  while (total() > desired) {
    const [worst] = [...counts.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || load(b) - load(a) || a.localeCompare(b));
    if (worst === undefined) break;
    const left = (counts.get(worst) ?? 0) - 1;
    if (left > 0) counts.set(worst, left);
    else counts.delete(worst);
  }
  for (;;) {
    const ids = [...alive.keys()].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0) || load(b) - load(a) || a.localeCompare(b));
    const most = ids[0] as string;
    const least = ids[ids.length - 1] as string;
    if ((counts.get(most) ?? 0) - (counts.get(least) ?? 0) <= 1) break;
    const left = (counts.get(most) ?? 0) - 1;
    if (left > 0) counts.set(most, left);
    else counts.delete(most);
    counts.set(least, (counts.get(least) ?? 0) + 1);
  }
  const nodes: Record<string, number> = Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const standby = pickStandby(current, counts, live, desired);
  if (standby !== undefined) nodes[standby] = 0;
  return { nodes, reason, at };
}

/** The node kept reading the inputs without replicas, if one is needed and available. */
function pickStandby(current: Placement | undefined, counts: Map<string, number>, live: NodeLoad[], desired: number): string | undefined {
  const free = live.filter((n) => !counts.has(n.id));
  if (free.length === 0) return undefined;
  const before = Object.entries(current?.nodes ?? {});
  // At zero, the home is a node that ran it last, or the standby before; above zero, the
  // standby before, if it is free still.
  const preferred = desired === 0
    ? [...before.filter(([, n]) => n > 0), ...before.filter(([, n]) => n === 0)].map(([id]) => id)
    : before.filter(([, n]) => n === 0).map(([id]) => id);
  for (const id of preferred) if (free.some((n) => n.id === id)) return id;
  return [...free].sort((a, b) => a.replicas - b.replicas || a.id.localeCompare(b.id))[0]?.id;
}

/** Whether two placements put the same replicas on the same nodes (reasons aside). */
export function samePlacement(a: Placement | undefined, b: Placement | undefined): boolean {
  return JSON.stringify(a?.nodes ?? {}) === JSON.stringify(b?.nodes ?? {});
}
