import { RiffError, type Logger } from "@riff/core";
import { NameHolders, nameTakenMessage } from "./cluster-names.js";
import type { ResourceStore, Revisioned, StoreEvent, StoredFunction } from "@riff/controller";
import type { FunctionCustomResource } from "./deployment.js";
import { toStoredFunction, type Conversion, type InvokerLookup, type KubeFunctionExtras } from "./function-resource.js";
import { FUNCTIONS, type KubeApi, type KubeObject, type WatchEvent } from "./kube-api.js";
import { inform } from "./informer.js";

/** A Function custom resource that riff cannot run, and why (its status says so). */
export interface Rejected {
  cr: KubeObject;
  reason: string;
  message: string;
}

/** What the controller needs of each function besides its stored form: the resource itself. */
export interface Known {
  cr: KubeObject;
  fn: StoredFunction;
  extras: KubeFunctionExtras;
  /** The spec as riff read it, for the Deployment. */
  resource: FunctionCustomResource;
}

/**
 * The function store of the Kubernetes mode: Function custom resources, listed and watched
 * (an informer, level-triggered: every relist after a gap yields every function again, then
 * `synced`). Read-only for riff: users write with kubectl or `riff apply --kubeconfig`. Names
 * are the riff cluster's: a name used in two namespaces runs once, the older resource's, and
 * the other is rejected with `NameTaken`.
 */
export class KubeFunctionSource implements ResourceStore<StoredFunction> {
  private readonly known = new Map<string, Known>();

  constructor(
    private readonly api: KubeApi,
    private readonly logger: Logger,
    /** A resource riff cannot run, or one that became runnable again (undefined). */
    private readonly onRejected: (cr: KubeObject, why: Rejected | undefined) => void,
    private readonly namespace?: string,
    /** Built-in invokers and those Invoker resources declared. @default the built-in ones */
    private readonly invokers?: InvokerLookup,
  ) {}

  /** The resource behind function `name`. */
  resource(name: string): Known | undefined {
    return this.known.get(name);
  }

  async list(): Promise<Revisioned<StoredFunction>[]> {
    const { items } = await this.api.list(FUNCTIONS, this.namespace);
    this.take(items);
    return [...this.known.values()].map((k) => ({ name: k.fn.name, value: k.fn, revision: Number(k.cr.metadata.resourceVersion ?? 0) }));
  }

  async get(name: string): Promise<Revisioned<StoredFunction> | undefined> {
    const k = this.known.get(name);
    return k === undefined ? undefined : { name, value: k.fn, revision: Number(k.cr.metadata.resourceVersion ?? 0) };
  }

  put(): Promise<number> {
    return Promise.reject(readOnly());
  }

  delete(): Promise<void> {
    return Promise.reject(readOnly());
  }

  watch(signal: AbortSignal): AsyncIterable<StoreEvent<StoredFunction>> {
    const source = this;
    return {
      async *[Symbol.asyncIterator]() {
        for await (const e of inform(source.api, FUNCTIONS, signal, source.logger, source.namespace)) {
          if (e.type === "change") {
            yield* source.event(e.event);
            continue;
          }
          const before = new Set(source.known.keys());
          source.take(e.items);
          for (const name of before) if (!source.known.has(name)) yield { type: "delete", name, revision: Number(e.resourceVersion) };
          for (const k of source.known.values()) yield { type: "put", name: k.fn.name, value: k.fn, revision: Number(k.cr.metadata.resourceVersion ?? 0) };
          yield { type: "synced" };
        }
      },
    };
  }

  /** Replaces what is known with `items`, deciding name clashes and conversions. */
  private take(items: KubeObject[]): void {
    const names = new NameHolders("function");
    names.reset(items);
    this.known.clear();
    for (const { cr, holder } of names.refused()) this.onRejected(cr, nameTaken(cr, holder));
    for (const cr of names.holders()) this.accept(cr);
  }

  private *event(e: WatchEvent): Generator<StoreEvent<StoredFunction>> {
    const cr = e.object;
    const name = cr.metadata.name;
    const holder = this.known.get(name)?.cr;
    const same = holder === undefined || holder.metadata.namespace === cr.metadata.namespace;
    if (e.type === "DELETED") {
      if (!same) return;
      this.known.delete(name);
      yield { type: "delete", name, revision: Number(cr.metadata.resourceVersion ?? 0) };
      return;
    }
    if (!same && holder !== undefined) {
      this.onRejected(cr, nameTaken(cr, holder));
      return;
    }
    if (this.accept(cr)) {
      const k = this.known.get(name) as Known;
      yield { type: "put", name, value: k.fn, revision: Number(cr.metadata.resourceVersion ?? 0) };
    }
  }

  /** Converts `cr`; true when it is (still) runnable. A resource that cannot run keeps what runs. */
  private accept(cr: KubeObject): boolean {
    const c: Conversion = toStoredFunction(cr, this.invokers);
    if (!c.ok) {
      this.onRejected(cr, { cr, reason: c.reason, message: c.message });
      return false;
    }
    this.onRejected(cr, undefined);
    this.known.set(cr.metadata.name, { cr, fn: c.fn, extras: c.extras, resource: c.resource });
    return true;
  }
}

function nameTaken(cr: KubeObject, holder: KubeObject): Rejected {
  return {
    cr,
    reason: "NameTaken",
    message: nameTakenMessage("function", cr, holder),
  };
}

function readOnly(): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", "on Kubernetes, functions are custom resources: change them with kubectl or riff --kubeconfig", {
    hint: "kubectl apply --server-side -f function.yaml",
  });
}

