import { API_VERSION, toRiffError, type InvokerResource, type Logger } from "@riff/core";
import { invokerSchema } from "@riff/core/validation";
import type { FunctionCatalog, InvokerRegistry } from "@riff/controller";
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
export class InvokerSync {
  constructor(private readonly o: InvokerSyncOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const known = new Map<string, KubeObject>();
    for await (const e of inform(this.o.api, INVOKERS, signal, this.o.logger, this.o.namespace)) {
      if (!this.o.may()) continue;
      if (e.type === "listed") {
        for (const cr of e.items) await this.declare(cr);
        const listed = new Set(e.items.map((cr) => cr.metadata.name));
        for (const [name, cr] of known) if (!listed.has(name)) await this.remove(cr);
        known.clear();
        for (const cr of e.items) known.set(cr.metadata.name, cr);
      } else if (e.event.type === "DELETED") {
        known.delete(e.event.object.metadata.name);
        await this.remove(e.event.object);
      } else if (known.get(e.event.object.metadata.name)?.metadata.generation !== e.event.object.metadata.generation) {
        known.set(e.event.object.metadata.name, e.event.object);
        await this.declare(e.event.object);
      }
    }
  }

  private async declare(cr: KubeObject): Promise<void> {
    const name = cr.metadata.name;
    const parsed = invokerSchema.safeParse({ apiVersion: API_VERSION, kind: "Invoker", metadata: { name }, spec: cr.spec ?? {} });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      await this.refuse(cr, "InvalidSpec", `${issue?.path.map(String).join(".") ?? "spec"}: ${issue?.message ?? "invalid"}`);
      return;
    }
    try {
      const how = await this.o.registry.apply(parsed.data as unknown as InvokerResource, false);
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
      this.o.changed(name);
    } catch (err) {
      // Still used, or never declared (a refused resource): the functions keep running.
      this.o.logger.warn("an Invoker resource went, its invoker stays", { invoker: name, err: toRiffError(err).message });
    }
  }

  private async refuse(cr: KubeObject, reason: string, message: string): Promise<void> {
    await this.o.status.write(INVOKERS, cr, { ready: { status: false, reason, message } });
    await this.o.events.record(cr, "Warning", reason, message);
  }
}
