import {
  DEFAULT_PARTITIONS,
  DEFAULT_RETENTION_BYTES,
  DEFAULT_RETENTION_MS,
  assertValidName,
} from "@riff/core";
import { DEFAULT_MAX_BATCH, MAX_PARTITIONS } from "@riff/broker";
import type { ConsumeOptions, TopicConfig, TopicInfo } from "@riff/broker";
import { invalidArgument } from "./errors.js";

// The same checks, in the same words, as the SQLite broker's topic-config.ts, which
// @riff/broker does not export; the conformance suite holds both to them.

/** Applies the topic defaults and checks every field. Pure. */
export function resolveTopicConfig(name: string, config: TopicConfig = {}): TopicInfo {
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
      throw invalidArgument(`topic '${name}': ${field} must be a positive number, got ${String(value)}`);
    }
  }
  const durability = config.durability ?? "process";
  if (durability !== "process" && durability !== "fsync") {
    throw invalidArgument(`topic '${name}': durability must be 'process' or 'fsync', got '${String(durability)}'`);
  }
  return { name, partitions, retentionMs, retentionBytes, durability };
}

/** Throws unless `partitions` is an integer from 1 to MAX_PARTITIONS. */
export function checkPartitions(name: string, partitions: unknown): asserts partitions is number {
  if (!Number.isInteger(partitions) || (partitions as number) < 1 || (partitions as number) > MAX_PARTITIONS) {
    throw invalidArgument(
      `topic '${name}': partitions must be an integer from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`,
    );
  }
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

/** Checks the arguments of read(). */
export function checkReadArgs(info: TopicInfo, partition: number, fromOffset: number, limit: number): void {
  checkPartition(info, partition);
  if (!Number.isInteger(fromOffset) || fromOffset < 0) {
    throw invalidArgument(`fromOffset must be a non-negative integer, got ${String(fromOffset)}`);
  }
  if (!Number.isInteger(limit) || limit < 1) throw invalidArgument(`limit must be a positive integer, got ${String(limit)}`);
}

/** Checks the arguments of consume() and applies its defaults. */
export function resolveConsumeOptions(
  topic: string,
  group: string,
  options: ConsumeOptions,
): { maxBatch: number; startAt: "earliest" | "latest" } {
  if (typeof group !== "string" || group === "" || group.includes("\u0000")) {
    throw invalidArgument(`consumer group name for topic '${topic}' must be a non-empty string`);
  }
  const maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw invalidArgument(`maxBatch must be a positive integer, got ${String(maxBatch)}`);
  const startAt = options.startAt ?? "earliest";
  if (startAt !== "earliest" && startAt !== "latest") {
    throw invalidArgument(`startAt must be 'earliest' or 'latest', got '${String(startAt)}'`);
  }
  return { maxBatch, startAt };
}
