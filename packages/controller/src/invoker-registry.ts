import { RiffError, type InvokerResource, type Logger } from "@riff/core";
import { createDefinedInvoker, type Invoker, type InvokerDefinition } from "@riff/runtime";
import { followStore } from "./follow.js";
import type { ResourceStore, StoreEvent } from "./stores.js";

/** An invoker as `riff invokers list` shows it. */
export interface InvokerSummary {
  name: string;
  description: string;
  matchers: string[];
  builtin: boolean;
  protocol?: string;
  command?: string[];
}

/**
 * The languages riff can run: the built-in invokers plus those users declared with an Invoker
 * resource, kept in a store (the home's files, or the cluster's KV) so they survive restarts
 * and every node knows them. Lookups are synchronous, from what the store last said.
 */
export class InvokerRegistry {
  private readonly defined = new Map<string, { def: InvokerDefinition; invoker: Invoker; revision: number }>();

  constructor(
    private readonly store: ResourceStore<InvokerDefinition>,
    private readonly builtins: ReadonlyMap<string, Invoker>,
    private readonly logger: Logger,
  ) {}

  /** Loads what the store holds now. */
  async load(): Promise<void> {
    for (const { name, value, revision } of await this.store.list()) this.take({ type: "put", name, value, revision });
  }

  /** Follows the store's changes (made on other nodes) until `signal` aborts. */
  follow(signal: AbortSignal): Promise<void> {
    return followStore(this.store, signal, (event) => this.take(event), this.logger, "the invokers");
  }

  get(name: string): Invoker | undefined {
    return this.builtins.get(name) ?? this.defined.get(name)?.invoker;
  }

  names(): string[] {
    return [...this.builtins.keys(), ...this.defined.keys()];
  }

  list(): InvokerSummary[] {
    const builtin = [...this.builtins.values()].map((i) => ({ name: i.name, description: i.description, matchers: i.matchers, builtin: true }));
    const user = [...this.defined.values()].map(({ def }) => ({
      name: def.name,
      description: def.description,
      matchers: def.matchers,
      builtin: false,
      protocol: def.protocol,
      command: def.command,
    }));
    return [...builtin, ...user];
  }

  /** Declares or replaces a user-defined invoker. */
  async apply(resource: InvokerResource, dryRun: boolean): Promise<"created" | "updated" | "unchanged"> {
    const name = resource.metadata.name;
    if (this.builtins.has(name)) {
      throw new RiffError("RIFF_INVALID_RESOURCE", `invoker '${name}' is built into riff and cannot be redefined`, {
        hint: "give your invoker another name",
      });
    }
    const { spec } = resource;
    const def: InvokerDefinition = {
      name,
      description: spec.description ?? `${name} functions (user-defined, ${spec.protocol})`,
      command: spec.command,
      protocol: spec.protocol,
      matchers: spec.matchers ?? ["*"],
      defaultHandler: spec.handler?.default,
      concurrency: spec.concurrency ?? (spec.protocol === "exec" ? 1 : 16),
    };
    const existing = await this.store.get(name);
    if (existing !== undefined && JSON.stringify(existing.value) === JSON.stringify(def)) return "unchanged";
    if (dryRun) return existing === undefined ? "created" : "updated";
    const revision = await this.store.put(name, def, existing?.revision ?? 0);
    this.take({ type: "put", name, value: def, revision });
    return existing === undefined ? "created" : "updated";
  }

  /** Removes a user-defined invoker; `usedBy` names the functions that still need it. */
  async delete(name: string, usedBy: string[]): Promise<void> {
    if (this.builtins.has(name)) throw new RiffError("RIFF_INVALID_ARGUMENT", `invoker '${name}' is built into riff and cannot be deleted`);
    const existing = await this.store.get(name);
    if (existing === undefined) {
      throw new RiffError("RIFF_INVOKER_NOT_FOUND", `invoker '${name}' does not exist`, { hint: "see them with `riff invokers list`" });
    }
    if (usedBy.length > 0) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `invoker '${name}' is used by function ${usedBy.map((f) => `'${f}'`).join(", ")}`, {
        hint: "delete those functions first",
      });
    }
    await this.store.delete(name, existing.revision);
    this.take({ type: "delete", name, revision: existing.revision + 1 });
  }

  /** Applies a store event; older revisions than the one known are stale echoes. */
  private take(event: StoreEvent<InvokerDefinition>): void {
    if (event.type === "synced") return;
    const known = this.defined.get(event.name);
    if (known !== undefined && known.revision >= event.revision) return;
    if (event.type === "delete") {
      this.defined.delete(event.name);
      return;
    }
    try {
      this.defined.set(event.name, { def: event.value, invoker: createDefinedInvoker(event.value), revision: event.revision });
    } catch (err) {
      this.logger.error("a stored invoker cannot be used", { invoker: event.name, err: String(err) });
    }
  }
}
