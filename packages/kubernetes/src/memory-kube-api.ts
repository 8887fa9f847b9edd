import { randomUUID } from "node:crypto";
import { apiVersionOf, KubeApiError, type KindRef, type KubeApi, type KubeList, type KubeObject, type WatchEvent } from "./kube-api.js";

/** Watch events kept for watches that resume from an older resourceVersion; older ones get 410. */
const EVENTS_KEPT = 1000;

interface Stored {
  obj: KubeObject;
  /** Leaf path -> the field manager that set it (server-side apply, simplified). */
  owners: Map<string, string>;
}

interface Watcher {
  kindKey: string;
  namespace: string | undefined;
  onEvent(e: WatchEvent): void;
}

const clone = <T>(v: T): T => structuredClone(v);

/** The leaves of an object's spec and labels, as `path -> JSON value`; arrays are atomic. */
function leaves(obj: KubeObject): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, child] of Object.entries(v)) walk(child, `${path}.${k}`);
    } else out.set(path, JSON.stringify(v));
  };
  walk(obj.spec ?? {}, "spec");
  walk(obj.metadata.labels ?? {}, "metadata.labels");
  return out;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = target;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (next === null || typeof next !== "object" || Array.isArray(next)) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts.at(-1) as string] = value;
}

function deletePath(target: Record<string, unknown>, path: string): void {
  const parts = path.split(".");
  let at: unknown = target;
  for (const p of parts.slice(0, -1)) at = (at as Record<string, unknown> | undefined)?.[p];
  if (at !== null && typeof at === "object") delete (at as Record<string, unknown>)[parts.at(-1) as string];
}

/**
 * An in-memory Kubernetes API with the semantics riff relies on: one growing resourceVersion,
 * optimistic concurrency (409 on a stale replace or a taken name), `generation` bumped on spec
 * changes only, /status and /scale apart from the spec, watches resumable from a bounded
 * history (410 past it), server-side apply with per-leaf field ownership (409 on a conflict
 * unless forced), and garbage collection by ownerReferences. It cannot stand for the real
 * server's structured-merge-diff, admission, RBAC or timing: the contract suite keeps both honest.
 */
export class MemoryKubeApi implements KubeApi {
  private rv = 0;
  private readonly objects = new Map<string, Stored>();
  private readonly history: { rv: number; kindKey: string; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();

  async list(kind: KindRef, namespace?: string): Promise<KubeList> {
    const prefix = `${kindKey(kind)}/`;
    const items = [...this.objects.entries()]
      .filter(([key, s]) => key.startsWith(prefix) && (namespace === undefined || s.obj.metadata.namespace === namespace))
      .map(([, s]) => clone(s.obj));
    return { items, resourceVersion: String(this.rv) };
  }

  async get(kind: KindRef, namespace: string, name: string): Promise<KubeObject | undefined> {
    const s = this.objects.get(objectKey(kind, namespace, name));
    return s === undefined ? undefined : clone(s.obj);
  }

  watch(kind: KindRef, resourceVersion: string, signal: AbortSignal, onEvent: (e: WatchEvent) => void, namespace?: string): Promise<void> {
    const from = Number(resourceVersion);
    const oldest = this.history[0]?.rv ?? this.rv + 1;
    if (from < oldest - 1 && this.history.length >= EVENTS_KEPT) return Promise.reject(new KubeApiError(410, `too old resource version: ${from} (${oldest - 1})`));
    const watcher: Watcher = { kindKey: kindKey(kind), namespace, onEvent };
    for (const h of this.history) if (h.rv > from && h.kindKey === watcher.kindKey && this.matches(watcher, h.event)) onEvent(clone(h.event));
    this.watchers.add(watcher);
    return new Promise((resolve) => {
      const done = () => {
        this.watchers.delete(watcher);
        resolve();
      };
      if (signal.aborted) done();
      else signal.addEventListener("abort", done, { once: true });
    });
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const kind = refOf(obj);
    const key = objectKey(kind, obj.metadata.namespace ?? "", obj.metadata.name);
    if (this.objects.has(key)) throw new KubeApiError(409, `${kind.plural} "${obj.metadata.name}" already exists`);
    return this.store(key, kind, { obj: this.fresh(obj), owners: new Map() }, "ADDED");
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    const kind = refOf(obj);
    const key = objectKey(kind, obj.metadata.namespace ?? "", obj.metadata.name);
    const s = this.objects.get(key);
    if (s === undefined) throw new KubeApiError(404, `${kind.plural} "${obj.metadata.name}" not found`);
    if (obj.metadata.resourceVersion !== s.obj.metadata.resourceVersion) {
      throw new KubeApiError(409, `Operation cannot be fulfilled on ${kind.plural} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const next = { ...clone(obj), status: s.obj.status, metadata: { ...clone(obj.metadata), uid: s.obj.metadata.uid, creationTimestamp: s.obj.metadata.creationTimestamp, generation: s.obj.metadata.generation } };
    return this.store(key, kind, { obj: this.bumped(s.obj, next), owners: s.owners }, "MODIFIED");
  }

  async apply(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject> {
    const kind = refOf(obj);
    const key = objectKey(kind, obj.metadata.namespace ?? "", obj.metadata.name);
    const s = this.objects.get(key);
    const wanted = leaves(obj);
    if (s === undefined) {
      const owners = new Map([...wanted.keys()].map((p) => [p, fieldManager] as const));
      return this.store(key, kind, { obj: this.fresh(obj), owners }, "ADDED");
    }
    const current = leaves(s.obj);
    const conflicts = [...wanted].filter(([p, v]) => {
      const owner = s.owners.get(p);
      return owner !== undefined && owner !== fieldManager && current.get(p) !== v;
    });
    if (conflicts.length > 0 && !force) {
      throw new KubeApiError(409, `Apply failed with ${conflicts.length} conflict(s): ${conflicts.map(([p]) => `conflict with "${s.owners.get(p)}": .${p}`).join(", ")}`);
    }
    const next = clone(s.obj);
    const owners = new Map(s.owners);
    for (const [p, owner] of s.owners) {
      if (owner === fieldManager && !wanted.has(p)) {
        deletePath(next as unknown as Record<string, unknown>, p);
        owners.delete(p);
      }
    }
    for (const [p, v] of wanted) {
      setPath(next as unknown as Record<string, unknown>, p, JSON.parse(v) as unknown);
      owners.set(p, fieldManager);
    }
    next.metadata = { ...next.metadata, annotations: { ...next.metadata.annotations, ...obj.metadata.annotations }, ownerReferences: obj.metadata.ownerReferences ?? next.metadata.ownerReferences };
    return this.store(key, kind, { obj: this.bumped(s.obj, next), owners }, "MODIFIED");
  }

  async patchStatus(kind: KindRef, namespace: string, name: string, status: Record<string, unknown>): Promise<KubeObject> {
    const key = objectKey(kind, namespace, name);
    const s = this.objects.get(key);
    if (s === undefined) throw new KubeApiError(404, `${kind.plural} "${name}" not found`);
    const next = { ...clone(s.obj), status: { ...(s.obj.status ?? {}), ...clone(status) } };
    return this.store(key, kind, { obj: next, owners: s.owners }, "MODIFIED");
  }

  async getScale(namespace: string, deployment: string): Promise<{ replicas: number; current: number }> {
    const d = await this.get(DEPLOYMENT, namespace, deployment);
    if (d === undefined) throw new KubeApiError(404, `deployments.apps "${deployment}" not found`);
    return { replicas: (d.spec?.["replicas"] as number | undefined) ?? 1, current: (d.status?.["replicas"] as number | undefined) ?? 0 };
  }

  async setScale(namespace: string, deployment: string, replicas: number): Promise<void> {
    const key = objectKey(DEPLOYMENT, namespace, deployment);
    const s = this.objects.get(key);
    if (s === undefined) throw new KubeApiError(404, `deployments.apps "${deployment}" not found`);
    const next = clone(s.obj);
    next.spec = { ...next.spec, replicas };
    const owners = new Map(s.owners);
    owners.delete("spec.replicas");
    this.store(key, DEPLOYMENT, { obj: this.bumped(s.obj, next), owners }, "MODIFIED");
  }

  async delete(kind: KindRef, namespace: string, name: string): Promise<void> {
    const key = objectKey(kind, namespace, name);
    const s = this.objects.get(key);
    if (s === undefined) return;
    this.objects.delete(key);
    this.publish(kindKey(kind), { type: "DELETED", object: clone({ ...s.obj, metadata: { ...s.obj.metadata, resourceVersion: String(++this.rv) } }) });
    // Garbage collection: what this object owned goes too.
    const uid = s.obj.metadata.uid;
    for (const d of [...this.objects.values()]) {
      if (d.obj.metadata.ownerReferences?.some((r) => r.uid === uid) === true) await this.delete(refOf(d.obj), d.obj.metadata.namespace ?? "", d.obj.metadata.name);
    }
  }

  private fresh(obj: KubeObject): KubeObject {
    const o = clone(obj);
    o.metadata = { ...o.metadata, uid: randomUUID(), generation: 1, creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
    if (o.kind === "Deployment" && o.spec !== undefined && o.spec["replicas"] === undefined) o.spec = { ...o.spec, replicas: 1 };
    return o;
  }

  /** `next` with the generation bumped when its spec differs from `before`'s. */
  private bumped(before: KubeObject, next: KubeObject): KubeObject {
    const changed = JSON.stringify(before.spec ?? null) !== JSON.stringify(next.spec ?? null);
    const generation = (before.metadata.generation ?? 1) + (changed ? 1 : 0);
    return { ...next, metadata: { ...next.metadata, generation } };
  }

  private store(key: string, kind: KindRef, s: Stored, type: "ADDED" | "MODIFIED"): KubeObject {
    s.obj.metadata.resourceVersion = String(++this.rv);
    this.objects.set(key, s);
    this.publish(kindKey(kind), { type, object: clone(s.obj) });
    return clone(s.obj);
  }

  private publish(kk: string, event: WatchEvent): void {
    this.history.push({ rv: this.rv, kindKey: kk, event });
    if (this.history.length > EVENTS_KEPT) this.history.shift();
    for (const w of this.watchers) if (w.kindKey === kk && this.matches(w, event)) w.onEvent(clone(event));
  }

  private matches(w: Watcher, e: WatchEvent): boolean {
    return w.namespace === undefined || e.object.metadata.namespace === w.namespace;
  }
}

const DEPLOYMENT: KindRef = { group: "apps", version: "v1", kind: "Deployment", plural: "deployments" };

function refOf(obj: KubeObject): KindRef {
  const [group, version] = obj.apiVersion.includes("/") ? (obj.apiVersion.split("/") as [string, string]) : ["", obj.apiVersion];
  return { group, version, kind: obj.kind, plural: `${obj.kind.toLowerCase()}s` };
}

function kindKey(k: KindRef): string {
  return `${apiVersionOf(k)}/${k.kind}`;
}

function objectKey(k: KindRef, namespace: string, name: string): string {
  return `${kindKey(k)}/${namespace}/${name}`;
}
