/**
 * The part of the Kubernetes API that riff's controller uses, as one narrow interface with two
 * implementations: {@link ClientKubeApi} on a real apiserver (through @kubernetes/client-node)
 * and {@link MemoryKubeApi} in memory for fast unit tests. One contract suite
 * (`@riff/kubernetes/conformance`) runs against both, so the fake cannot drift from the real
 * thing in what riff relies on.
 */

/** An object as the API returns it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: KubeMeta;
  spec?: Record<string, unknown> | undefined;
  status?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeMeta {
  name: string;
  namespace?: string | undefined;
  uid?: string | undefined;
  generation?: number | undefined;
  resourceVersion?: string | undefined;
  creationTimestamp?: string | undefined;
  deletionTimestamp?: string | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  ownerReferences?: OwnerReference[] | undefined;
}

/** Which resource: its API group and version, kind and plural (the URL's word). */
export interface KindRef {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
}

export const FUNCTIONS: KindRef = { group: "projectriff.io", version: "v1alpha1", kind: "Function", plural: "functions" };
export const TOPICS: KindRef = { group: "projectriff.io", version: "v1alpha1", kind: "Topic", plural: "topics" };
export const INVOKERS: KindRef = { group: "projectriff.io", version: "v1alpha1", kind: "Invoker", plural: "invokers" };
export const DEPLOYMENTS: KindRef = { group: "apps", version: "v1", kind: "Deployment", plural: "deployments" };
export const LEASES: KindRef = { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases" };
export const EVENTS: KindRef = { group: "", version: "v1", kind: "Event", plural: "events" };

/** `group/version`, or `version` for the core group. */
export function apiVersionOf(k: KindRef): string {
  return k.group === "" ? k.version : `${k.group}/${k.version}`;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** A list and the resourceVersion to watch from. */
export interface KubeList {
  items: KubeObject[];
  resourceVersion: string;
}

/**
 * Why a call failed, by HTTP status as Kubernetes answers: 404 not found, 409 conflict (a
 * stale resourceVersion, a name taken, a server-side apply conflict), 410 gone (a watch
 * from a resourceVersion the server no longer has), 422 invalid.
 */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** The status of a failed call, or undefined when it did not reach the API. */
export function kubeStatus(err: unknown): number | undefined {
  return err instanceof KubeApiError ? err.status : undefined;
}

export interface KubeApi {
  /** Every object of `kind` (in `namespace`, or in all when undefined). */
  list(kind: KindRef, namespace?: string): Promise<KubeList>;
  get(kind: KindRef, namespace: string, name: string): Promise<KubeObject | undefined>;
  /**
   * Follows changes after `resourceVersion` until `signal` aborts (resolves) or the watch ends
   * (resolves: the caller lists again). Rejects with 410 when `resourceVersion` is too old.
   */
  watch(kind: KindRef, resourceVersion: string, signal: AbortSignal, onEvent: (e: WatchEvent) => void, namespace?: string): Promise<void>;
  /** Creates `obj`; 409 when its name is taken. */
  create(obj: KubeObject): Promise<KubeObject>;
  /** Replaces `obj` if its metadata.resourceVersion is still current; 409 otherwise. */
  replace(obj: KubeObject): Promise<KubeObject>;
  /**
   * Server-side apply: `obj` is what `fieldManager` wants of the fields it names; fields it
   * leaves out and others own (a Deployment's replicas, set through /scale) are kept. 409 on
   * a conflict with another manager unless `force`.
   */
  apply(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject>;
  /** Merges `status` into the object's status through its /status subresource (the spec is untouched). */
  patchStatus(kind: KindRef, namespace: string, name: string, status: Record<string, unknown>): Promise<KubeObject>;
  /** A Deployment's replica count through its /scale subresource. */
  getScale(namespace: string, deployment: string): Promise<{ replicas: number; current: number }>;
  setScale(namespace: string, deployment: string, replicas: number): Promise<void>;
  /** Deletes (in the background: what it owns goes by garbage collection); absent is no error. */
  delete(kind: KindRef, namespace: string, name: string): Promise<void>;
}
