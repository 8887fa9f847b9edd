import {
  DEFAULT_PARTITIONS,
  DEFAULT_RETENTION_BYTES,
  DEFAULT_RETENTION_MS,
  assertValidName,
} from "@riff/core";
import type { ConsumeOptions, PublishMessage, SeekTarget, TopicConfig, TopicInfo } from "./broker.js";
import { invalidArgument, messageTooLarge } from "./broker-errors.js";
import { encodeHeaders, isValidHeaders, partitionForKey, storedSize } from "./encoding.js";
import type { PendingMessage } from "./topic-log.js";

/** Most messages per consumer batch unless `maxBatch` says otherwise. */
export const DEFAULT_MAX_BATCH = 256;

/** Most partitions a topic may have; each is a table, and a group walks them all per batch. */
export const MAX_PARTITIONS = 1024;

/** The replica counts a topic may ask for: JetStream's usual sizes (an even count adds no fault tolerance). */
export const REPLICA_COUNTS: readonly number[] = [1, 3];

/**
 * Applies the topic defaults and checks every field; `defaultReplicas` is the broker's (1 for
 * the embedded one). Whether the broker can keep that many copies is the broker's to check. Pure.
 */
export function resolveTopicConfig(name: string, config: TopicConfig = {}, defaultReplicas = 1): TopicInfo {
  assertValidName(name, "topic");
  const partitions = config.partitions ?? DEFAULT_PARTITIONS;
  checkPartitions(name, partitions);
  const retentionMs = config.retentionMs ?? DEFAULT_RETENTION_MS;
  const retentionBytes = config.retentionBytes ?? DEFAULT_RETENTION_BYTES;
  for (const [field, value] of [
    ["retentionMs", retentionMs],
    ["retentionBytes", retentionBytes],
  ] as const) {
    if (typeof value !== "number" || !(value > 0)) {
      throw invalidArgument(
        `topic '${name}': ${field} must be a positive number, got ${String(value)}`,
      );
    }
  }
  const durability = config.durability ?? "process";
  if (durability !== "process" && durability !== "fsync") {
    throw invalidArgument(
      `topic '${name}': durability must be 'process' or 'fsync', got '${String(durability)}'`,
    );
  }
  const replicas = config.replicas ?? defaultReplicas;
  if (!REPLICA_COUNTS.includes(replicas)) {
    throw invalidArgument(
      `topic '${name}': replicas must be 1 or 3, got ${String(replicas)}`,
      "leave replicas out for the broker's default, or ask for 3 on a NATS cluster of 3 or more servers",
    );
  }
  return { name, partitions, retentionMs, retentionBytes, durability, replicas };
}

/**
 * The shared checks, and the embedded broker's own: one copy of each message, in the topic's file.
 * Asking for more is refused rather than ignored, so a Topic written for a NATS cluster says
 * plainly that it is not honoured here.
 */
export function resolveEmbeddedTopicConfig(name: string, config: TopicConfig | undefined): TopicInfo {
  const info = resolveTopicConfig(name, config);
  if (info.replicas !== 1) {
    throw invalidArgument(
      `topic '${name}': replicas ${info.replicas}: the embedded broker keeps one copy; replicas: 3 needs riff on a NATS cluster`,
      "leave replicas out (or set it to 1), or start riff with --broker naming a NATS cluster of 3 or more servers",
    );
  }
  return info;
}

/** Throws unless `partitions` is an integer from 1 to {@link MAX_PARTITIONS}. */
export function checkPartitions(name: string, partitions: unknown): asserts partitions is number {
  if (
    !Number.isInteger(partitions) ||
    (partitions as number) < 1 ||
    (partitions as number) > MAX_PARTITIONS
  ) {
    throw invalidArgument(
      `topic '${name}': partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`,
    );
  }
}

/**
 * Checks and encodes one message for the write queue, choosing its partition: an explicit one,
 * else the key's hash, else the next in `roundRobin`. The payload is copied, because the caller
 * may reuse its buffer once publish() returns and the write happens on the next turn.
 */
export function prepareMessage(
  info: TopicInfo,
  message: PublishMessage,
  roundRobin: () => number,
  maxBytes: number,
): PendingMessage {
  const topic = info.name;
  const p = checkMessage(info, message, roundRobin);
  const { key, headers } = message;
  const encoded = encodeHeaders(headers);
  const k = key ?? null;
  const size = storedSize(message.payload, k, encoded);
  if (size > maxBytes) throw messageTooLarge(topic, size, maxBytes);
  return { partition: p, key: k, headers: encoded, payload: Buffer.from(message.payload), size };
}

/** Checks the arguments of consume() and applies its defaults. */
export function resolveConsumeOptions(
  topic: string,
  group: string,
  options: ConsumeOptions,
): { maxBatch: number; startAt: "earliest" | "latest"; weight: number } {
  if (typeof group !== "string" || group === "" || group.includes("\u0000")) {
    throw invalidArgument(`consumer group name for topic '${topic}' must be a non-empty string`);
  }
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw invalidArgument(`maxBatch must be a positive integer, got ${String(maxBatch)}`);
  const startAt = options.startAt ?? "earliest";
  if (startAt !== "earliest" && startAt !== "latest") {
    throw invalidArgument(`startAt must be 'earliest' or 'latest', got '${String(startAt)}'`);
  }
  const weight = options.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 0) throw invalidArgument(`weight must be a whole number of at least 0, got ${String(weight)}`);
  return { maxBatch, startAt, weight };
}

/** Checks the arguments of read(). */
export function checkReadArgs(
  info: TopicInfo,
  partition: number,
  fromOffset: number,
  limit: number,
): void {
  checkPartition(info, partition);
  if (!Number.isInteger(fromOffset) || fromOffset < 0) {
    throw invalidArgument(`fromOffset must be a non-negative integer, got ${String(fromOffset)}`);
  }
  if (!Number.isInteger(limit) || limit < 1)
    throw invalidArgument(`limit must be a positive integer, got ${String(limit)}`);
}

/** Throws unless `partition` is one of the topic's. */
export function checkPartition(info: TopicInfo, partition: unknown): asserts partition is number {
  if (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= info.partitions) {
    throw invalidArgument(
      `partition ${String(partition)} does not exist in topic '${info.name}' (it has ${info.partitions})`,
      `use a partition from 0 to ${info.partitions - 1}, or raise the partition count of '${info.name}'`,
    );
  }
}

/**
 * Checks a message's shape and chooses its partition: an explicit one, else the key's hash
 * (so a key lands alike on every broker), else the next of `roundRobin`.
 */
export function checkMessage(info: TopicInfo, message: PublishMessage, roundRobin: () => number): number {
  const topic = info.name;
  if (message === null || typeof message !== "object" || !(message.payload instanceof Uint8Array)) {
    throw invalidArgument(`a message for topic '${topic}' needs a payload of bytes (Uint8Array)`);
  }
  const { key, partition, headers } = message;
  if (key !== undefined && typeof key !== "string") {
    throw invalidArgument(`a message key for topic '${topic}' must be a string`);
  }
  if (headers !== undefined && !isValidHeaders(headers)) {
    throw invalidArgument(`message headers for topic '${topic}' must map names to arrays of strings`);
  }
  if (partition !== undefined) {
    checkPartition(info, partition);
    return partition;
  }
  return key !== undefined ? partitionForKey(key, info.partitions) : roundRobin() % info.partitions;
}

/** The offsets a seek to `target` names, given each partition's, or undefined for a timestamp (the broker looks it up). */
export function seekOffsets(target: SeekTarget, offsets: { start: number; end: number }[]): number[] | undefined {
  if (target === "earliest") return offsets.map((o) => o.start);
  if (target === "latest") return offsets.map((o) => o.end);
  if (typeof target === "object" && target !== null && "offsets" in target && Array.isArray(target.offsets)) {
    return offsets.map((o, p) => Math.min(o.end, Math.max(o.start, target.offsets[p] ?? o.start)));
  }
  return undefined;
}
