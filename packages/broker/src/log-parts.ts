// The small parts of a topic's log that are not its state: the types the write queue shares
// with it, how a message object is built, and the lookup of an offset by time.
import type Database from "better-sqlite3";
import type { Logger } from "@riff/core";
import type { StoredMessage } from "./broker.js";
import type { Checkpointer } from "./checkpointer.js";
import { partitionTable } from "./topic-schema.js";

/** A message waiting in the write queue, already validated and encoded. */
export interface PendingMessage {
  partition: number;
  key: string | null;
  headers: string | null;
  payload: Uint8Array;
  size: number;
}

/** A group's new committed offset (the next offset it will read) on one partition. */
export interface PendingCommit {
  group: string;
  partition: number;
  committed: number;
}

/** What the log needs from the broker's options. */
export interface TopicLogOptions {
  logger: Logger;
  tailCacheMessages: number;
  tailCacheBytes: number;
  quickCheckMaxBytes: number;
  /** Runs WAL checkpoints off the event loop; without it SQLite's are off and the WAL grows. */
  checkpointer?: Checkpointer;
}

/** Builds a StoredMessage; one literal so every message shares one hidden class. */
export function storedMessage(
  topic: string,
  partition: number,
  offset: number,
  payload: Uint8Array,
  headers: StoredMessage["headers"],
  key: string | null,
  timestamp: number,
): StoredMessage {
  return { topic, partition, offset, payload, headers, key: key ?? undefined, timestamp };
}

/**
 * The first offset in [start, end) written at or after `timestamp`, or `end`. Timestamps are
 * the broker's clock at each flush, so they rise with the offset, and offsets are dense from
 * start to end: a binary search costs O(log n) rowid lookups where a scan of `ts` would read
 * the whole partition. (Were the clock to step back, this finds one of the crossings.)
 */
export function firstOffsetAtOrAfter(db: Database.Database, partition: number, start: number, end: number, timestamp: number): number {
  const at = db.prepare(`SELECT ts FROM ${partitionTable(partition)} WHERE off = ?`).pluck();
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const ts = at.get(mid) as number | undefined;
    if (ts === undefined || ts >= timestamp) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
