/**
 * The stores riff's controller reads desired state from. One interface, several backends: files
 * in the riff home (one daemon), JetStream KV (a cluster of riff nodes), and later Kubernetes
 * custom resources. Modelled on nats.js's KV (`update(key, value, version)`) and on
 * kubernetes-client's `ObjectCache`/`Informer`: a list, a get, and a watch of changes.
 */

/** A stored value with the revision that identifies this version of it. */
export interface Revisioned<T> {
  name: string;
  value: T;
  /** Grows with every write to the store; the token for compare-and-set. */
  revision: number;
}

/**
 * What a watch yields: every current value first (as puts), then `synced`, then each change
 * as it happens. A watch may also yield `synced` again after it caught up from a gap (a
 * reconnect): consumers are level-triggered, so a repeated put is harmless.
 */
export type StoreEvent<T> =
  | { type: "put"; name: string; value: T; revision: number }
  | { type: "delete"; name: string; revision: number }
  | { type: "synced" };

/** A keyed store of one kind of resource, with compare-and-set writes. */
export interface ResourceStore<T> {
  list(): Promise<Revisioned<T>[]>;
  get(name: string): Promise<Revisioned<T> | undefined>;
  /** Ends when `signal` aborts. */
  watch(signal: AbortSignal): AsyncIterable<StoreEvent<T>>;
  /**
   * Writes `value` if the stored revision is `expectedRevision` (0: only if absent); resolves
   * with the new revision. Fails with RIFF_CONFLICT when someone else wrote in between.
   */
  put(name: string, value: T, expectedRevision: number): Promise<number>;
  /** Deletes `name`; with `expectedRevision`, only if it is still that version (RIFF_CONFLICT otherwise). */
  delete(name: string, expectedRevision?: number): Promise<void>;
}

/**
 * Function code, by content digest. `upload` takes the user's file or folder on this node and
 * returns its digest; `fetch` materialises it into a folder on any node.
 */
export interface ArtifactStore {
  /** Hashes the artifact at `path` and keeps its bytes under that digest (idempotent). */
  upload(path: string): Promise<string>;
  /** Writes artifact `digest` into the empty folder `dir`; resolves with the artifact's path there. */
  fetch(digest: string, dir: string): Promise<string>;
}
