import { RiffError } from "@riff/core";
import { apiErrorCode, JsErrorCodes, type KvBucket } from "@riff/broker-nats";
import { conflict, type ResourceStore, type Revisioned, type StoreEvent } from "@riff/controller";
import type { KvEntry } from "nats";

const decoder = new TextDecoder();

/**
 * A {@link ResourceStore} in a JetStream KV bucket, the cluster's one source of truth: the
 * values under `<kind>.<name>`, JSON. The bucket's sequence is the revision, so `put` is
 * `kv.create` (revision 0) or `kv.update(key, value, revision)`, and a write that lost a race
 * fails with RIFF_CONFLICT instead of overwriting (nats.md §4).
 */
export class KvResourceStore<T> implements ResourceStore<T> {
  constructor(
    private readonly bucket: KvBucket,
    private readonly kind: string,
  ) {}

  /**
   * Every value: the keys as the bucket's stream holds them at one instant, then a get each.
   * No consumer is made (a watch makes one, which can time out for minutes while a NATS
   * server is down), so a node starting then still reads the store.
   */
  async list(): Promise<Revisioned<T>[]> {
    const keys = await this.bucket.keys(`${this.kind}.>`);
    const entries = await this.bucket.op((kv) => Promise.all(keys.map((k) => kv.get(k))));
    return entries
      .flatMap((e) => (e === null ? [] : [this.revisioned(e)]))
      .filter((r): r is Revisioned<T> => r !== undefined)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(name: string): Promise<Revisioned<T> | undefined> {
    const e = await this.bucket.op((kv) => kv.get(this.key(name)));
    return e === null ? undefined : this.revisioned(e);
  }

  watch(signal: AbortSignal): AsyncIterable<StoreEvent<T>> {
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        let synced: (() => void) | undefined;
        const pending: StoreEvent<T>[] = [];
        const watch = await store.bucket.current.watch({ key: `${store.kind}.>`, initializedFn: () => synced?.() });
        const onAbort = () => watch.stop();
        signal.addEventListener("abort", onAbort, { once: true });
        synced = () => void pending.push({ type: "synced" });
        try {
          for await (const e of watch) {
            const name = store.name(e.key);
            const r = store.revisioned(e);
            yield r === undefined ? { type: "delete", name, revision: e.revision } : { type: "put", ...r };
            // The initializedFn runs between two entries: hand its `synced` on in order.
            while (pending.length > 0) yield pending.shift() as StoreEvent<T>;
          }
        } finally {
          signal.removeEventListener("abort", onAbort);
          watch.stop();
        }
        // A watch that ends by itself (the bucket went away) must not look like a quiet one.
        if (!signal.aborted) throw new RiffError("RIFF_BROKER_UNAVAILABLE", `the watch of ${store.kind} in the cluster's store ended`);
      },
    };
  }

  async put(name: string, value: T, expectedRevision: number): Promise<number> {
    const data = JSON.stringify(value);
    try {
      return await this.bucket.op((kv) => (expectedRevision === 0 ? kv.create(this.key(name), data) : kv.update(this.key(name), data, expectedRevision)));
    } catch (err) {
      if (apiErrorCode(err) !== JsErrorCodes.wrongLastSequence) throw err;
      throw conflict(name, expectedRevision, (await this.get(name))?.revision);
    }
  }

  async delete(name: string, expectedRevision?: number): Promise<void> {
    try {
      await this.bucket.op((kv) => kv.delete(this.key(name), expectedRevision === undefined ? undefined : { previousSeq: expectedRevision }));
    } catch (err) {
      if (apiErrorCode(err) !== JsErrorCodes.wrongLastSequence) throw err;
      throw conflict(name, expectedRevision ?? 0, (await this.get(name))?.revision);
    }
  }

  private key(name: string): string {
    return `${this.kind}.${name}`;
  }

  private name(key: string): string {
    return key.slice(this.kind.length + 1);
  }

  private revisioned(e: KvEntry): Revisioned<T> | undefined {
    if (e.operation !== "PUT" || e.value.length === 0) return undefined;
    return { name: this.name(e.key), value: JSON.parse(decoder.decode(e.value)) as T, revision: e.revision };
  }
}
