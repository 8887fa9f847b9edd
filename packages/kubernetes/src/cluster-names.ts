import type { KubeObject } from "./kube-api.js";

/**
 * Names of riff's resources are the riff cluster's, not a namespace's: one function, topic or
 * invoker of a name runs, whatever namespace declares it. When two namespaces declare the same
 * name, the older resource holds it and the other is refused with `NameTaken`, until the
 * holder goes.
 */
export class NameHolders {
  /** Every resource seen, by name, then by namespace. */
  private readonly byName = new Map<string, Map<string, KubeObject>>();

  constructor(private readonly kind: "function" | "topic" | "invoker") {}

  /** Forgets everything and takes `items` (a relist). */
  reset(items: KubeObject[]): void {
    this.byName.clear();
    for (const cr of items) this.set(cr);
  }

  set(cr: KubeObject): void {
    const name = cr.metadata.name;
    const all = this.byName.get(name) ?? new Map<string, KubeObject>();
    all.set(cr.metadata.namespace ?? "", cr);
    this.byName.set(name, all);
  }

  delete(cr: KubeObject): void {
    const all = this.byName.get(cr.metadata.name);
    all?.delete(cr.metadata.namespace ?? "");
    if (all?.size === 0) this.byName.delete(cr.metadata.name);
  }

  /** The resource last seen of `cr`'s namespace and name. */
  at(cr: KubeObject): KubeObject | undefined {
    return this.byName.get(cr.metadata.name)?.get(cr.metadata.namespace ?? "");
  }

  /** The holder of every name. */
  holders(): KubeObject[] {
    return [...this.byName.keys()].map((name) => this.holder(name) as KubeObject);
  }

  /** The resource that holds `name`: the oldest of those that declare it. */
  holder(name: string): KubeObject | undefined {
    return [...(this.byName.get(name)?.values() ?? [])].sort(olderFirst)[0];
  }

  /** Whether `cr` holds its name. */
  holds(cr: KubeObject): boolean {
    const h = this.holder(cr.metadata.name);
    return h === undefined || h.metadata.namespace === cr.metadata.namespace;
  }

  /** Every resource that does not hold its name, with the one that does. */
  refused(): { cr: KubeObject; holder: KubeObject }[] {
    const out: { cr: KubeObject; holder: KubeObject }[] = [];
    for (const name of this.byName.keys()) {
      const holder = this.holder(name) as KubeObject;
      for (const cr of this.byName.get(name)?.values() ?? []) if (cr !== holder) out.push({ cr, holder });
    }
    return out;
  }

  /** Why `cr` is refused: its name is held by `holder`, in another namespace. */
  message(cr: KubeObject, holder: KubeObject): string {
    return nameTakenMessage(this.kind, cr, holder);
  }
}

/** Why `cr` is refused: its name is held by `holder`, in another namespace. */
export function nameTakenMessage(kind: string, cr: KubeObject, holder: KubeObject): string {
  return `${kind} names are the riff cluster's: '${cr.metadata.name}' is already declared in namespace ${holder.metadata.namespace ?? ""}; rename this one, or delete that one`;
}

function olderFirst(a: KubeObject, b: KubeObject): number {
  return (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "");
}
