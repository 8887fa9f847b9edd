import type { TopicInfo } from "@riff/broker";
import type { KV } from "nats";
import { JsErrorCodes, apiErrorCode, natsFailed, topicExists } from "./errors.js";
import { KvBucket, type KvBucketOptions } from "./kv-bucket.js";
import { topicKey } from "./names.js";

const text = new TextDecoder();

/**
 * Topic settings, in one JetStream KV bucket (group offsets have a bucket of their own, see
 * {@link OffsetStore}). `kv.create` fails when the key exists, which makes createTopic atomic
 * across riff instances sharing a server. A bucket deleted under a running broker is created
 * again on first use (see {@link KvBucket}): topics it has open keep publishing; their records
 * are gone, see `recoverTopic`.
 */
export class MetaStore {
  private constructor(private readonly bucket: KvBucket) {}

  /** Opens the bucket, creating it (file storage, one value per key, `replicas` copies) on first use. */
  static async open(o: KvBucketOptions): Promise<MetaStore> {
    return new MetaStore(await KvBucket.open(o));
  }

  /** The bucket's replica count, as found or created. */
  get replicas(): number {
    return this.bucket.replicas;
  }

  /** Records a new topic; RIFF_TOPIC_EXISTS if its key is there already. */
  async createTopic(info: TopicInfo): Promise<void> {
    await this.bucket.op((kv) => kv.create(topicKey(info.name), JSON.stringify(info))).catch((err: unknown) => {
      if (apiErrorCode(err) === JsErrorCodes.wrongLastSequence) throw topicExists(info.name);
      throw natsFailed(`recording topic '${info.name}'`, err);
    });
  }

  async putTopic(info: TopicInfo): Promise<void> {
    await this.bucket.op((kv) => kv.put(topicKey(info.name), JSON.stringify(info)));
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    return this.bucket.op((kv) => readTopic(kv, name));
  }

  /** Every recorded topic, from one snapshot of the bucket's keys. */
  async listTopics(): Promise<TopicInfo[]> {
    const keys = await this.bucket.keys("t.>");
    return this.bucket.op(async (kv) => {
      const infos = await Promise.all(keys.map((key) => readTopic(kv, key.slice(2))));
      return infos.filter((info): info is TopicInfo => info !== undefined);
    });
  }

  /** Forgets a topic's record. */
  async deleteTopic(name: string): Promise<void> {
    await this.bucket.op((kv) => kv.purge(topicKey(name)));
  }
}

async function readTopic(kv: KV, name: string): Promise<TopicInfo | undefined> {
  const entry = await kv.get(topicKey(name));
  if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
  const info = JSON.parse(text.decode(entry.value)) as TopicInfo;
  // Records written before topics had `replicas` are of R1 streams, the only kind made then.
  return { ...info, replicas: info.replicas ?? 1 };
}
