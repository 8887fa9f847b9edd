import { API_VERSION, toRiffError, type InvokerResource, type Logger } from "@riff/core";
import { firstProblem, invokerSchema } from "@riff/core/validation";
import type { FunctionCatalog, InvokerRegistry } from "@riff/controller";
import { NameHolders } from "./cluster-names.js";
import { inform } from "./informer.js";
import { INVOKERS, type KubeApi, type KubeObject } from "./kube-api.js";
import type { EventRecorder, StatusWriter } from "./status.js";

/** What an {@link InvokerSync} needs. */
export interface InvokerSyncOptions {
  api: KubeApi;
  /** The riff cluster's invokers (built in, and declared in its store), which its nodes read. */
  registry: InvokerRegistry;
  catalog: FunctionCatalog;
  status: StatusWriter;
  events: EventRecorder;
  logger: Logger;
  may: () => boolean;
  /** An invoker was declared or removed: functions that name it may now run, or not. */
  changed: (name: string) => void;
  namespace?: string | undefined;
}

/**
 * Keeps the riff cluster's user-defined invokers as Invoker resources say, through the same
 * registry `riff apply` uses on one machine: declared, replaced, and removed when the resource
 * goes unless a function still uses it. Their functions run in an image of the user's
 * (`spec.container.image`) that holds the invoker's command.
 */
/** How often an invoker kept for its functions is tried again for removal. */
const LINGER_RETRY_MS = 2000;

export class InvokerSync {
  /** Invokers whose resource went while functions used them: tried every LINGER_RETRY_MS, removed once unused. */
  private readonly lingering = new Map<string, KubeObject>();

  constructor(private readonly o: InvokerSyncOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const names = new NameHolders("invoker");
    // Each lingering invoker is tried again until its last function is gone.
    const retry = setInterval(() => {
      if (!this.o.may()) return;
      for (const [name, cr] of this.lingering) if (names.holder(name) === undefined) void this.remove(cr);
    }, LINGER_RETRY_MS);
    try {
      await this.follow(signal, names);
    } finally {
      clearInterval(retry);
    }
  }

  private async follow(signal: AbortSignal, names: NameHolders): Promise<void> {
    for await (const e of inform(this.o.api, INVOKERS, signal, this.o.logger, this.o.namespace)) {
      if (!this.o.may()) continue;
      if (e.type === "listed") {
        const before = names.holders();
        names.reset(e.items);
        for (const { cr, holder } of names.refused()) await this.refuse(cr, "NameTaken", names.message(cr, holder));
        const holders = names.holders();
        for (const cr of holders) await this.declare(cr);
        const listed = new Set(holders.map((cr) => cr.metadata.name));
        for (const cr of [...before, ...this.lingering.values()]) if (!listed.has(cr.metadata.name)) await this.remove(cr);
        continue;
      }
      const cr = e.event.object;
      const name = cr.metadata.name;
      if (e.event.type === "DELETED") {
        const held = names.holds(cr);
        names.delete(cr);
        if (!held) {
          this.o.status.forget(cr);
          continue;
        }
        // The name passes to the next namespace that declares it, else the invoker goes.
        const next = names.holder(name);
        if (next === undefined) await this.remove(cr);
        else await this.declare(next);
        continue;
      }
      // A status write comes back as an event; only a new generation is news.
      const seen = names.at(cr);
      if (seen !== undefined && seen.metadata.generation === cr.metadata.generation) {
        names.set(cr);
        continue;
      }
      const before = names.holder(name);
      names.set(cr);
      const holder = names.holder(name);
      if (holder !== undefined && !names.holds(cr)) {
        await this.refuse(cr, "NameTaken", names.message(cr, holder));
        continue;
      }
      // Made in the same second as the holder, in a namespace that sorts first: it holds now.
      if (before !== undefined && before.metadata.namespace !== cr.metadata.namespace) await this.refuse(before, "NameTaken", names.message(before, cr));
      await this.declare(cr);
    }
  }

  private async declare(cr: KubeObject): Promise<void> {
    const name = cr.metadata.name;
    const doc = { apiVersion: API_VERSION, kind: "Invoker", metadata: { name }, spec: cr.spec ?? {} };
    const parsed = invokerSchema.safeParse(doc);
    if (!parsed.success) {
      await this.refuse(cr, "InvalidSpec", firstProblem(parsed.error.issues, doc, invokerSchema));
      return;
    }
    try {
      const how = await this.o.registry.apply(parsed.data as unknown as InvokerResource, false);
      this.lingering.delete(name);
      await this.o.status.write(INVOKERS, cr, { ready: { status: true, reason: "Declared", message: `the riff cluster's nodes run functions of invoker ${name} with: ${(parsed.data.spec.command).join(" ")}` } });
      if (how !== "unchanged") {
        await this.o.events.record(cr, "Normal", "Declared", `invoker ${name} ${how}`);
        this.o.changed(name);
      }
    } catch (err) {
      const e = toRiffError(err);
      await this.refuse(cr, e.code === "RIFF_INVALID_RESOURCE" ? "BuiltIn" : "StoreError", e.message);
    }
  }

  private async remove(cr: KubeObject): Promise<void> {
    const name = cr.metadata.name;
    this.o.status.forget(cr);
    const users = this.o.catalog.list().filter((fn) => fn.invoker === name).map((fn) => fn.name);
    try {
      await this.o.registry.delete(name, users);
      this.lingering.delete(name);
      this.o.changed(name);
    } catch (err) {
      // Still used: the functions keep running, and the next relist tries again. Never
      // declared (a refused resource): nothing to remove.
      const e = toRiffError(err);
      if (e.code === "RIFF_INVOKER_NOT_FOUND") {
        this.lingering.delete(name);
        return;
      }
      if (!this.lingering.has(name)) this.o.logger.warn("an Invoker resource went, its invoker stays while functions use it", { invoker: name, users, err: e.message });
      this.lingering.set(name, cr);
    }
  }

  private async refuse(cr: KubeObject, reason: string, message: string): Promise<void> {
    await this.o.status.write(INVOKERS, cr, { ready: { status: false, reason, message } });
    await this.o.events.record(cr, "Warning", reason, message);
  }
}
