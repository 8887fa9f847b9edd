import { deadLetterTopicOf } from "@riff/core";
import type { StoredFunction } from "./function-spec.js";
import type { Revisioned, StoreEvent } from "./stores.js";

/**
 * What the function store last said, in memory: every node's view of every function in the
 * riff (not only those running here), so that "who reads this topic" has one answer across a
 * cluster. Fed by the store's watch and by this node's own writes, newest revision winning.
 */
export class FunctionCatalog {
  private readonly functions = new Map<string, Revisioned<StoredFunction>>();
  /** Revision of the last delete per name, so a late echo of an older put does not bring it back. */
  private readonly deleted = new Map<string, number>();

  /** Applies a change; returns whether it was news (not an echo of what is known). */
  take(event: StoreEvent<StoredFunction>): boolean {
    if (event.type === "synced") return false;
    const known = this.functions.get(event.name)?.revision ?? this.deleted.get(event.name) ?? 0;
    if (event.revision <= known) return false;
    if (event.type === "delete") {
      this.functions.delete(event.name);
      this.deleted.set(event.name, event.revision);
    } else {
      this.functions.set(event.name, { name: event.name, value: event.value, revision: event.revision });
      this.deleted.delete(event.name);
    }
    return true;
  }

  /** Replaces everything with a full listing; returns the names that changed or went. */
  replace(all: Revisioned<StoredFunction>[]): string[] {
    const changed = new Set<string>();
    const present = new Set(all.map((r) => r.name));
    for (const name of this.functions.keys()) if (!present.has(name)) changed.add(name);
    for (const r of all) if (this.functions.get(r.name)?.revision !== r.revision) changed.add(r.name);
    for (const name of changed) if (!present.has(name)) this.functions.delete(name);
    for (const r of all) {
      const known = this.functions.get(r.name)?.revision ?? 0;
      if (r.revision > known) this.functions.set(r.name, r);
    }
    return [...changed];
  }

  get(name: string): Revisioned<StoredFunction> | undefined {
    return this.functions.get(name);
  }

  names(): string[] {
    return [...this.functions.keys()].sort();
  }

  list(): StoredFunction[] {
    return this.names().map((n) => (this.functions.get(n) as Revisioned<StoredFunction>).value);
  }

  /** The functions that read `topic`. */
  readersOf(topic: string): string[] {
    return this.list().filter((fn) => fn.inputs.includes(topic)).map((fn) => fn.name);
  }

  /** The functions that read or write `topic`. */
  usedBy(topic: string): string[] {
    return this.list().filter((fn) => fn.inputs.includes(topic) || fn.output === topic).map((fn) => fn.name);
  }

  /** Names of the functions whose dead letters go to `topic`. */
  deadLettering(topic: string): string[] {
    return this.list().filter((fn) => deadLetterTopicOf(fn) === topic).map((fn) => fn.name);
  }
}
