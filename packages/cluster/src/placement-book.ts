import type { Logger } from "@riff/core";
import { followStore, type DesiredFunction, type Placement, type ResourceStore, type Revisioned } from "@riff/controller";

/**
 * Every function's placement, as the store last said, followed by a watch (and re-read when
 * the watch fails), so each node knows what it should run: a node listed reads the function's
 * inputs with its count as weight and runs that many replicas; a node not listed runs none.
 * Each placement's revision is its generation: a node applies a placement once.
 */
export class PlacementBook {
  private readonly placements = new Map<string, Revisioned<Placement>>();

  constructor(
    private readonly store: ResourceStore<Placement>,
    private readonly node: string,
    /** A function's placement changed: reconcile it. */
    private readonly changed: (name: string) => void,
    private readonly logger: Logger,
  ) {}

  async load(): Promise<void> {
    for (const r of await this.store.list()) this.placements.set(r.name, r);
  }

  /** Follows the store until `signal` aborts, opening the watch again after a failure. */
  follow(signal: AbortSignal): Promise<void> {
    return followStore(this.store, signal, (e) => {
      if (e.type === "synced") return;
      const known = this.placements.get(e.name)?.revision ?? 0;
      if (e.revision <= known) return;
      if (e.type === "delete") this.placements.delete(e.name);
      else this.placements.set(e.name, { name: e.name, value: e.value, revision: e.revision });
      this.changed(e.name);
    }, this.logger, "the placements");
  }

  get(name: string): Revisioned<Placement> | undefined {
    return this.placements.get(name);
  }

  /** This node's part in function `name`, for the reconciler. */
  of(name: string): Pick<DesiredFunction, "membership" | "replicas"> {
    const p = this.placements.get(name);
    if (p === undefined) return { membership: undefined };
    const count = p.value.nodes[this.node];
    return {
      membership: count === undefined ? undefined : { weight: count },
      replicas: { count: count ?? 0, generation: p.revision },
    };
  }

  /**
   * Writes a placement if the one known is still current (compare-and-set); another writer
   * wins a race, and the next round decides again from what it wrote.
   */
  async write(name: string, placement: Placement): Promise<boolean> {
    const known = this.placements.get(name);
    try {
      const revision = await this.store.put(name, placement, known?.revision ?? 0);
      this.placements.set(name, { name, value: placement, revision });
      this.changed(name);
      return true;
    } catch (err) {
      this.logger.debug("a placement was not written", { fn: name, err: String(err) });
      return false;
    }
  }

  /** Removes a deleted function's placement. */
  async remove(name: string): Promise<void> {
    const known = this.placements.get(name);
    if (known === undefined) return;
    this.placements.delete(name);
    await this.store.delete(name).catch(() => undefined);
  }
}
