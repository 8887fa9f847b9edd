import type Database from "better-sqlite3";
import { partitionTable } from "./topic-schema.js";

/**
 * A message's size in bytes; must agree with `storedSize` in encoding.ts. The casts matter:
 * length() of TEXT counts characters and stops at a NUL.
 */
const SIZE_EXPR =
  "length(payload) + ifnull(length(CAST(key AS BLOB)), 0) + ifnull(length(CAST(headers AS BLOB)), 0)";

/** One partition's state and limits, as the retention sweep needs them. */
export interface RetentionInput {
  start: number;
  end: number;
  /** Retained bytes now. */
  bytes: number;
  /** Messages written before this time (ms since the epoch) go. */
  oldestKept: number;
  /** The partition's share of the topic's retentionBytes. */
  maxBytes: number;
}

/** Where retention cuts a partition: offsets below `cut` go, `remaining` bytes stay. */
export interface RetentionPlan {
  cut: number;
  remaining: number;
}

/**
 * Finds the cut: first past every message older than `oldestKept` (a scan from the start that
 * stops at the first young message, so it costs what it deletes), then further, oldest first,
 * until the bytes left fit `maxBytes`.
 */
export function planRetention(
  db: Database.Database,
  partition: number,
  input: RetentionInput,
): RetentionPlan {
  const table = partitionTable(partition);
  const firstYoung = db
    .prepare(`SELECT off FROM ${table} WHERE off >= ? AND ts >= ? ORDER BY off LIMIT 1`)
    .get(input.start, input.oldestKept) as { off: number } | undefined;
  let cut = firstYoung?.off ?? input.end;
  const aged = db
    .prepare(`SELECT ifnull(sum(${SIZE_EXPR}), 0) AS n FROM ${table} WHERE off < ?`)
    .get(cut) as { n: number };
  let remaining = Math.max(0, input.bytes - aged.n);
  if (remaining > input.maxBytes) {
    const rows = db
      .prepare(`SELECT off, ${SIZE_EXPR} AS n FROM ${table} WHERE off >= ? ORDER BY off`)
      .iterate(cut) as IterableIterator<{ off: number; n: number }>;
    for (const row of rows) {
      if (remaining <= input.maxBytes) break;
      remaining -= row.n;
      cut = row.off + 1;
    }
  }
  return { cut, remaining: Math.max(0, remaining) };
}

/** Deletes below the cut and records the new start, in one transaction; returns the count. */
export function applyRetention(
  db: Database.Database,
  partition: number,
  plan: RetentionPlan,
): number {
  return db.transaction(() => {
    const { changes } = db
      .prepare(`DELETE FROM ${partitionTable(partition)} WHERE off < ?`)
      .run(plan.cut);
    db.prepare("UPDATE partitions SET start = ?, bytes = ? WHERE partition = ?").run(
      plan.cut,
      plan.remaining,
      partition,
    );
    return changes;
  })();
}
