import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RiffError, type InvokerResource } from "@riff/core";
import { createDefinedInvoker, type Invoker, type InvokerDefinition } from "@riff/runtime";

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
 * resource, kept as JSON in `<home>/invokers` so they survive a restart.
 */
export class InvokerRegistry {
  private readonly defined = new Map<string, { def: InvokerDefinition; invoker: Invoker }>();

  constructor(
    private readonly dir: string,
    private readonly builtins: ReadonlyMap<string, Invoker>,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      const def = JSON.parse(readFileSync(join(dir, file), "utf8")) as InvokerDefinition;
      this.defined.set(def.name, { def, invoker: createDefinedInvoker(def) });
    }
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
  apply(resource: InvokerResource, dryRun: boolean): "created" | "updated" | "unchanged" {
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
    const existing = this.defined.get(name);
    if (existing !== undefined && JSON.stringify(existing.def) === JSON.stringify(def)) return "unchanged";
    if (dryRun) return existing === undefined ? "created" : "updated";
    const tmp = join(this.dir, `${name}.json.tmp`);
    writeFileSync(tmp, `${JSON.stringify(def, null, 2)}\n`);
    renameSync(tmp, join(this.dir, `${name}.json`));
    this.defined.set(name, { def, invoker: createDefinedInvoker(def) });
    return existing === undefined ? "created" : "updated";
  }

  /** Removes a user-defined invoker; `usedBy` names the functions that still need it. */
  delete(name: string, usedBy: string[]): void {
    if (this.builtins.has(name)) throw new RiffError("RIFF_INVALID_ARGUMENT", `invoker '${name}' is built into riff and cannot be deleted`);
    if (!this.defined.has(name)) {
      throw new RiffError("RIFF_INVOKER_NOT_FOUND", `invoker '${name}' does not exist`, { hint: "see them with `riff invokers list`" });
    }
    if (usedBy.length > 0) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `invoker '${name}' is used by function ${usedBy.map((f) => `'${f}'`).join(", ")}`, {
        hint: "delete those functions first",
      });
    }
    rmSync(join(this.dir, `${name}.json`), { force: true });
    this.defined.delete(name);
  }
}
