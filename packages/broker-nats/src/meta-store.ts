import type { TopicInfo } from "@riff/broker";
import { type JetStreamClient, type KV, StorageType } from "nats";
import { JsErrorCodes, apiErrorCode, natsFailed, topicExists } from "./errors.js";
import { groupKey, groupKeyPrefix, parseGroupKey, topicKey } from "./names.js";

const text = new TextDecoder();

/**
 * Topic settings and committed group offsets, in one JetStream KV bucket. KV is itself a stream,
 * so a commit that resolved is stored as durably as a message; `kv.create` fails when the key
 * exists, which makes createTopic atomic across riff instances sharing a server.
 */
export class MetaStore {
  private constructor(private readonly kv: KV) {}

  /** Opens the bucket, creating it (file storage, one value per key) on first use. */
  static async open(js: JetStreamClient, bucket: string, timeoutMs: number): Promise<MetaStore> {
    return new MetaStore(await js.views.kv(bucket, { history: 1, storage: StorageType.File, timeout: timeoutMs }));
  }

  /** Records a new topic; RIFF_TOPIC_EXISTS if its key is there already. */
  async createTopic(info: TopicInfo): Promise<void> {
    try {
      await this.kv.create(topicKey(info.name), JSON.stringify(info));
    } catch (err) {
      if (apiErrorCode(err) === JsErrorCodes.wrongLastSequence) throw topicExists(info.name);
      throw natsFailed(`recording topic '${info.name}'`, err);
    }
  }

  async putTopic(info: TopicInfo): Promise<void> {
    await this.kv.put(topicKey(info.name), JSON.stringify(info));
  }

  async getTopic(name: string): Promise<TopicInfo | undefined> {
    const entry = await this.kv.get(topicKey(name));
    if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    return JSON.parse(text.decode(entry.value)) as TopicInfo;
  }

  async listTopics(): Promise<TopicInfo[]> {
    const out: TopicInfo[] = [];
    for (const key of await this.keys("t.>")) {
      const info = await this.getTopic(key.slice(2));
      if (info !== undefined) out.push(info);
    }
    return out;
  }

  /** Forgets a topic and every group offset of it. */
  async deleteTopic(name: string): Promise<void> {
    for (const key of await this.keys(`${groupKeyPrefix(name)}>`)) await this.kv.purge(key);
    await this.kv.purge(topicKey(name));
  }

  /** Every stored group of `topic`, with its committed offsets (NaN where a partition has none). */
  async groups(topic: string, group?: string): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const key of await this.keys(`${groupKeyPrefix(topic, group)}>`)) {
      const parsed = parseGroupKey(key);
      const entry = await this.kv.get(key);
      if (parsed === undefined || entry === null || entry.operation !== "PUT") continue;
      const offsets = out.get(parsed.group) ?? [];
      offsets[parsed.partition] = Number(text.decode(entry.value));
      out.set(parsed.group, offsets);
    }
    return out;
  }

  /** Makes `next` the committed offset (next to read) of one partition of a group. */
  async commit(topic: string, group: string, partition: number, next: number): Promise<void> {
    await this.kv.put(groupKey(topic, group, partition), String(next));
  }

  async deleteGroup(topic: string, group: string): Promise<void> {
    for (const key of await this.keys(`${groupKeyPrefix(topic, group)}>`)) await this.kv.purge(key);
  }

  private async keys(filter: string): Promise<string[]> {
    const out: string[] = [];
    for await (const key of await this.kv.keys(filter)) out.push(key);
    return out;
  }
}
