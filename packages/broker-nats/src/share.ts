import { dealingOrder } from "@riff/broker/kit";

/** An instance (a riff node's broker) in a consumer group, with its weight. */
export interface GroupInstance {
  id: string;
  /** > 0: reads in proportion to it; 0: a standby, reading only while no instance of weight > 0 is alive. */
  weight: number;
}

/**
 * Which partitions each instance of a group should hold: dealt round-robin over the instances
 * sorted by id, each counted as often as its weight; standbys (weight 0) share them equally
 * only when no instance of weight > 0 is alive. Pure and deterministic, so every instance
 * computes the same answer from the same membership without talking to the others; leases
 * decide in the moments when two views differ.
 */
export function dealPartitions(partitions: number, instances: readonly GroupInstance[]): Map<string, number[]> {
  const out = new Map<string, number[]>(instances.map((i) => [i.id, []]));
  const active = instances.filter((i) => i.weight > 0);
  // The same interleaved dealing as among one process's members (weights 2 and 1 give a b a).
  const slots = dealingOrder((active.length > 0 ? active : instances).slice().sort((a, b) => a.id.localeCompare(b.id)));
  if (slots.length === 0) return out;
  for (let p = 0; p < partitions; p++) out.get((slots[p % slots.length] as GroupInstance).id)?.push(p);
  return out;
}
