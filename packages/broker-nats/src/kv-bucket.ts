import type { Logger } from "@riff/core";
import { StorageType, type JetStreamClient, type JetStreamManager, type KV } from "nats";
import { apiErrorCode, JsErrorCodes } from "./errors.js";

/** What {@link KvBucket.open} needs. */
export interface KvBucketOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  bucket: string;
  /** Copies of the bucket when it is created (an existing bucket keeps its own). */
  replicas: number;
  /** A bucket whose keys expire this long after their last write (leases). */
  ttlMs?: number;
  /** Values kept per key. @default 1 */
  history?: number;
  timeoutMs: number;
  /** Throws RIFF_BROKER_UNAVAILABLE while disconnected, so that no KV call waits for a timeout. */
  check(): void;
  logger: Logger;
}

/**
 * One of the broker's KV buckets. Reads go to the stream leader (no `allow_direct`), so they see
 * every acknowledged write and a bucket that is gone answers "stream not found" at once. A
 * bucket deleted under a running broker is created again on first use and the call retried
 * once, so riff keeps working (what the bucket held is lost; the callers say what that means).
 */
export class KvBucket {
  private reopening: Promise<KV> | undefined;

  private constructor(
    private readonly o: KvBucketOptions,
    private kv: KV,
    private copies: number,
  ) {}

  /** Opens the bucket, creating it (file storage, one value per key) on first use. */
  static async open(o: KvBucketOptions): Promise<KvBucket> {
    const kv = await create(o);
    const si = await o.jsm.streams.info(`KV_${o.bucket}`);
    return new KvBucket(o, kv, si.config.num_replicas);
  }

  /** The bucket's replica count, as found, created or raised. */
  get replicas(): number {
    return this.copies;
  }

  /** Gives an existing bucket `replicas` copies if it has fewer (a cluster grown since it was made). */
  async raiseReplicas(replicas: number): Promise<void> {
    if (this.copies >= replicas) return;
    const stream = `KV_${this.o.bucket}`;
    const si = await this.o.jsm.streams.info(stream);
    await this.o.jsm.streams.update(stream, { ...si.config, num_replicas: replicas });
    this.copies = replicas;
    this.o.logger.info("raised the KV bucket's replicas", { bucket: this.o.bucket, replicas });
  }

  /**
   * The keys matching `filter`, as the bucket's stream holds them at one instant: the stream
   * info's per-subject counts (the server computes them in one pass under the stream's lock).
   * Not `kv.keys()`: its consumer ends on a pending count that concurrent writes move, which gave
   * partial lists, and it once never ended. Deleted keys keep a marker: callers read and skip them.
   */
  async keys(filter: string): Promise<string[]> {
    return this.op(async () => {
      const prefix = `$KV.${this.o.bucket}.`;
      const si = await this.o.jsm.streams.info(`KV_${this.o.bucket}`, { subjects_filter: `${prefix}${filter}` });
      return Object.keys(si.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
    });
  }

  /** Runs `fn` on the bucket; if the bucket is gone, creates it again and runs `fn` once more. */
  async op<T>(fn: (kv: KV) => Promise<T>): Promise<T> {
    this.o.check();
    try {
      return await fn(this.kv);
    } catch (err) {
      if (!(await this.missing(err))) {
        if (!noResponders(err)) throw err;
        // The bucket is there but nobody answered its subjects: a leader election (NATS
        // restarting); once more, and the caller's own retries do the rest.
        this.o.logger.debug("no responders on a KV bucket (a leader election?); trying once more", { bucket: this.o.bucket });
        return fn(this.kv);
      }
      this.o.logger.warn("a KV bucket is missing; creating it again (what it held is lost)", { bucket: this.o.bucket });
      this.reopening ??= create(this.o).finally(() => (this.reopening = undefined));
      this.kv = await this.reopening;
      return fn(this.kv);
    }
  }

  /**
   * Whether a KV call failed because the bucket's stream does not exist: "stream not found"
   * from the JetStream API, or no responders on the bucket's subjects (a put) while the stream
   * info says it is gone. No responders alone is not proof: a put during a KV leader election
   * (NATS restarting) gets it too, and was once logged as a bucket lost, several times a second.
   */
  private async missing(err: unknown): Promise<boolean> {
    if (apiErrorCode(err) === JsErrorCodes.streamNotFound) return true;
    if (!noResponders(err)) return false;
    return this.o.jsm.streams.info(`KV_${this.o.bucket}`).then(
      () => false,
      (infoErr: unknown) => apiErrorCode(infoErr) === JsErrorCodes.streamNotFound,
    );
  }

  /** The bucket itself, for what `op` does not cover (watches). */
  get current(): KV {
    return this.kv;
  }
}

function create(o: KvBucketOptions): Promise<KV> {
  return o.js.views.kv(o.bucket, {
    history: o.history ?? 1,
    storage: StorageType.File,
    replicas: o.replicas,
    timeout: o.timeoutMs,
    allow_direct: false,
    ...(o.ttlMs === undefined ? {} : { ttl: o.ttlMs }),
  });
}

/** No responders (503) on a request: nobody listened on its subject. */
function noResponders(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "503";
}
