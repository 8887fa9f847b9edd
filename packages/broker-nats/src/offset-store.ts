import type { KvBucket } from "./kv-bucket.js";
import { apiErrorCode, JsErrorCodes } from "./errors.js";

/** A group's committed offset of one partition, and who wrote it. */
export interface OffsetRecord {
  /** The next offset to read. */
  offset: number;
  /** The lease generation of the instance that wrote it (0: written with no lease, by a seek). */
  generation: number;
  /** The record's KV revision: the token of the next compare-and-set write. */
  revision: number;
}

const decoder = new TextDecoder();

/** The key of a group's offset: group names are any text; KV keys allow `[-/_=.A-Za-z0-9]`, so base64url. */
export function offsetKey(topic: string, group: string, partition: number): string {
  return `${topic}.${Buffer.from(group).toString("base64url")}.${partition}`;
}

/**
 * Committed offsets of consumer groups, in a KV bucket of their own (apart from topic records,
 * so losing one does not lose the other). Every write is compare-and-set on the record's
 * revision: a new owner of a partition first rewrites the record with its own lease generation,
 * so a late commit of the owner before it fails instead of moving the offset (the fencing of
 * nats.md §2, done on the offset rather than by recreating a durable consumer).
 */
export class OffsetStore {
  constructor(private readonly bucket: KvBucket) {}

  async get(topic: string, group: string, partition: number): Promise<OffsetRecord | undefined> {
    return this.bucket.op(async (kv) => {
      const e = await kv.get(offsetKey(topic, group, partition));
      if (e === null || e.operation !== "PUT" || e.value.length === 0) return undefined;
      const { offset, generation } = JSON.parse(decoder.decode(e.value)) as { offset: number; generation: number };
      return { offset, generation, revision: e.revision };
    });
  }

  /** Every partition's record (undefined where none). */
  all(topic: string, group: string, partitions: number): Promise<(OffsetRecord | undefined)[]> {
    return Promise.all(Array.from({ length: partitions }, (_, p) => this.get(topic, group, p)));
  }

  /**
   * Writes `offset` if the record is still at `expectedRevision` (0: absent); resolves with the
   * new revision, or `undefined` when someone else wrote in between.
   */
  async write(topic: string, group: string, partition: number, offset: number, generation: number, expectedRevision: number): Promise<number | undefined> {
    const value = JSON.stringify({ offset, generation });
    const key = offsetKey(topic, group, partition);
    try {
      return await this.bucket.op((kv) => (expectedRevision === 0 ? kv.create(key, value) : kv.update(key, value, expectedRevision)));
    } catch (err) {
      if (apiErrorCode(err) === JsErrorCodes.wrongLastSequence) return undefined;
      throw err;
    }
  }

  /** The groups that have records on `topic` (a deleted group's keys keep a marker: read, then skipped). */
  async groups(topic: string): Promise<string[]> {
    const keys = await this.bucket.keys(`${topic}.>`);
    const names = new Set<string>();
    await this.bucket.op(async (kv) => {
      const entries = await Promise.all(keys.map((key) => kv.get(key)));
      keys.forEach((key, i) => {
        const encoded = key.split(".")[1];
        if (encoded !== undefined && entries[i]?.operation === "PUT") names.add(Buffer.from(encoded, "base64url").toString());
      });
    });
    return [...names].sort();
  }

  /** Forgets a group's records on `topic`. */
  async deleteGroup(topic: string, group: string): Promise<void> {
    const prefix = `${topic}.${Buffer.from(group).toString("base64url")}.`;
    await this.purge(`${prefix}>`);
  }

  /** Forgets every group's records on `topic`. */
  async deleteTopic(topic: string): Promise<void> {
    await this.purge(`${topic}.>`);
  }

  private async purge(filter: string): Promise<void> {
    const keys = await this.bucket.keys(filter);
    await this.bucket.op(async (kv) => {
      for (const key of keys) await kv.purge(key);
    });
  }
}
