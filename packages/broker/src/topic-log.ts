import type Database from "better-sqlite3";
import type { PartitionOffsets, StoredMessage, TopicInfo } from "./broker.js";
import { decodeHeaders } from "./encoding.js";
import { applyRetention, planRetention } from "./retention.js";
import { TailCache } from "./tail-cache.js";
import { firstOffsetAtOrAfter, storedMessage, type PendingCommit, type PendingMessage, type TopicLogOptions } from "./log-parts.js";
import {
  addPartitionTables,
  applyDurability,
  markClean,
  openTopicDb,
  fileSize,
  partitionTable,
  readTopicState,
  removeTopicFiles,
  reportUncleanShutdown,
  reportWalCut,
  scanTopicWal,
  topicFile,
} from "./topic-schema.js";

export type { PendingCommit, PendingMessage, TopicLogOptions } from "./log-parts.js";

/** A writer-side checkpoint slower than this is logged: it held up every publish of the topic. */
const SLOW_CHECKPOINT_MS = 100;

/**
 * One topic's log in its own SQLite file: a table per partition keyed by offset, the committed
 * offsets of its groups, and its settings. All calls are synchronous; the broker serialises them
 * on the event loop, so one connection serves both writes and reads.
 */
export class SqliteTopicLog {
  /** Oldest retained offset, next offset to write, and retained bytes, per partition. */
  readonly start: number[];
  readonly end: number[];
  private readonly bytes: number[];
  /** Durable committed offsets per group, as loaded at open. */
  readonly storedGroups: Map<string, number[]>;
  private readonly caches: TailCache[] = [];
  private inserts: Database.Statement[] = [];
  private selects: Database.Statement[] = [];
  private readonly upsertGroup: Database.Statement;
  private readonly setBytes: Database.Statement;
  private readonly writeTxn: (
    messages: PendingMessage[],
    commits: PendingCommit[],
    ts: number,
  ) => void;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    public info: TopicInfo,
    state: { start: number[]; end: number[]; bytes: number[]; groups: Map<string, number[]> },
    private readonly options: TopicLogOptions,
  ) {
    this.start = state.start;
    this.end = state.end;
    this.bytes = state.bytes;
    this.storedGroups = state.groups;
    applyDurability(db, info);
    this.upsertGroup = db.prepare(
      "INSERT INTO groups (grp, partition, committed) VALUES (?, ?, ?) " +
        "ON CONFLICT (grp, partition) DO UPDATE SET committed = excluded.committed",
    );
    this.setBytes = db.prepare("UPDATE partitions SET bytes = ? WHERE partition = ?");
    this.preparePartitions();
    this.writeTxn = db.transaction(this.writeRows.bind(this));
  }

  /** Creates the file of a new topic. */
  static create(dir: string, info: TopicInfo, options: TopicLogOptions): SqliteTopicLog {
    const path = topicFile(dir, info.name);
    // A file left by a crash between creating and committing a topic, or deleting one, holds
    // nothing committed under this name's catalog; start clean.
    removeTopicFiles(path);
    const db = openTopicDb(path, info);
    const zeros = new Array<number>(info.partitions).fill(0);
    return new SqliteTopicLog(
      db,
      path,
      info,
      { start: zeros, end: [...zeros], bytes: [...zeros], groups: new Map() },
      options,
    );
  }

  /** Opens an existing topic file, checking it on the way (see docs/broker.md, Recovery). */
  static open(path: string, name: string, options: TopicLogOptions): SqliteTopicLog {
    // Before opening: SQLite's recovery decides what to cut, and the next write overwrites it.
    const wal = scanTopicWal(path, name, options.logger);
    const db = openTopicDb(path, undefined);
    try {
      const state = readTopicState(db, name, options.logger);
      reportWalCut(wal, name, options.logger);
      if (!state.clean) reportUncleanShutdown(db, path, name, options);
      markClean(db, false);
      return new SqliteTopicLog(db, path, state.info, state, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Appends `messages` and records `commits` in one transaction, then fills in the offsets.
   * On failure nothing is written and the in-memory offsets are unchanged.
   */
  append(messages: PendingMessage[], commits: PendingCommit[], ts: number): StoredMessage[] {
    this.writeTxn(messages, commits, ts);
    const out = new Array<StoredMessage>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as PendingMessage;
      const offset = this.end[m.partition] as number;
      this.end[m.partition] = offset + 1;
      this.bytes[m.partition] = (this.bytes[m.partition] as number) + m.size;
      const stored = storedMessage(
        this.info.name,
        m.partition,
        offset,
        m.payload,
        decodeHeaders(m.headers),
        m.key,
        ts,
      );
      this.caches[m.partition]?.push(stored);
      out[i] = stored;
    }
    // Only after the offsets moved: the rows are committed, so a failure here must not make
    // the publish look failed (a retry would duplicate) or reuse the offsets (every later
    // write would then fail).
    try {
      this.options.checkpointer?.wrote(this.path, this.finishCheckpoint);
    } catch (err) {
      this.options.logger.warn("could not look at the WAL's size; checkpoints wait for the next write", { topic: this.info.name, error: String(err) });
    }
    return out;
  }

  /** Up to `limit` messages of `partition` from `from` (moved up to the start if retention passed it). */
  read(partition: number, from: number, limit: number): StoredMessage[] {
    const offset = Math.max(from, this.start[partition] ?? 0);
    const cache = this.caches[partition];
    if (cache?.has(offset)) return cache.slice(offset, limit);
    const rows = (this.selects[partition] as Database.Statement).all(offset, limit) as [
      number,
      number,
      string | null,
      string | null,
      Uint8Array,
    ][];
    const out = new Array<StoredMessage>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as [number, number, string | null, string | null, Uint8Array];
      out[i] = storedMessage(
        this.info.name,
        partition,
        r[0],
        r[4],
        decodeHeaders(r[3]),
        r[2],
        r[1],
      );
    }
    return out;
  }

  offsets(): PartitionOffsets[] {
    return this.start.map((start, partition) => ({
      partition,
      start,
      end: this.end[partition] ?? start,
    }));
  }

  /** The first offset of `partition` written at or after `timestamp`, or the end. */
  offsetForTimestamp(partition: number, timestamp: number): number {
    return firstOffsetAtOrAfter(this.db, partition, this.start[partition] as number, this.end[partition] as number, timestamp);
  }

  /** Adds partitions up to `partitions` and stores the new settings. */
  setPartitions(partitions: number): void {
    const from = this.info.partitions;
    const info = { ...this.info, partitions };
    this.db.transaction(() => {
      addPartitionTables(this.db, from, partitions);
      this.db.prepare("UPDATE meta SET value = ? WHERE key = 'config'").run(JSON.stringify(info));
    })();
    this.info = info;
    for (let p = from; p < partitions; p++) {
      this.start.push(0);
      this.end.push(0);
      this.bytes.push(0);
    }
    this.preparePartitions();
  }

  /** Deletes a group's committed offsets. */
  deleteGroup(group: string): void {
    this.db.prepare("DELETE FROM groups WHERE grp = ?").run(group);
    this.storedGroups.delete(group);
  }

  /** Stores new retention and durability settings. */
  updateConfig(info: TopicInfo): void {
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'config'").run(JSON.stringify(info));
    this.info = info;
    applyDurability(this.db, info);
  }

  /**
   * Deletes the oldest messages of each partition that are older than `retentionMs` or beyond
   * the partition's share of `retentionBytes`, moves the start offsets, and returns pages to the
   * file system. Returns the number of messages deleted.
   */
  enforceRetention(now: number): number {
    const { retentionMs, retentionBytes, partitions } = this.info;
    let deleted = 0;
    for (let p = 0; p < partitions; p++) {
      const start = this.start[p] as number;
      const plan = planRetention(this.db, p, {
        start,
        end: this.end[p] as number,
        bytes: this.bytes[p] as number,
        oldestKept: now - retentionMs,
        maxBytes: retentionBytes / partitions,
      });
      if (plan.cut <= start) continue;
      deleted += applyRetention(this.db, p, plan);
      this.start[p] = plan.cut;
      this.bytes[p] = plan.remaining;
      this.caches[p]?.dropBefore(plan.cut);
    }
    if (deleted > 0) this.db.pragma("incremental_vacuum");
    return deleted;
  }

  /**
   * After the checkpoint thread copied the WAL, copies the frames written meanwhile (few), so
   * that the next write starts the WAL over (see checkpointer.ts).
   */
  private readonly finishCheckpoint = (): void => {
    if (!this.db.open) return;
    const started = performance.now();
    try {
      this.db.pragma("wal_checkpoint(PASSIVE)");
    } catch {
      // the next round will do
    }
    const ms = performance.now() - started;
    if (ms > SLOW_CHECKPOINT_MS) this.options.logger.warn("slow WAL checkpoint on the writer", { topic: this.info.name, ms: Math.round(ms) });
  };

  /** Bytes on disk: the database file and its WAL. */
  sizeBytes(): number {
    return fileSize(this.path) + fileSize(`${this.path}-wal`);
  }

  /** Closes the file; `clean` records an orderly shutdown for the next start. */
  close(): void {
    this.options.checkpointer?.forget(this.path);
    if (!this.db.open) return;
    try {
      markClean(this.db, true);
    } finally {
      this.db.close();
    }
  }

  private writeRows(messages: PendingMessage[], commits: PendingCommit[], ts: number): void {
    const next = [...this.end];
    const bytes = [...this.bytes];
    const touched = new Array<boolean>(next.length).fill(false);
    for (const m of messages) {
      const p = m.partition;
      const offset = next[p] as number;
      next[p] = offset + 1;
      bytes[p] = (bytes[p] as number) + m.size;
      (this.inserts[p] as Database.Statement).run(offset, ts, m.key, m.headers, m.payload);
      touched[p] = true;
    }
    for (let p = 0; p < touched.length; p++) if (touched[p]) this.setBytes.run(bytes[p], p);
    for (const c of commits) this.upsertGroup.run(c.group, c.partition, c.committed);
  }

  private preparePartitions(): void {
    for (let p = this.inserts.length; p < this.info.partitions; p++) {
      const table = partitionTable(p);
      this.inserts.push(
        this.db.prepare(
          `INSERT INTO ${table} (off, ts, key, headers, payload) VALUES (?, ?, ?, ?, ?)`,
        ),
      );
      this.selects.push(
        this.db
          .prepare(
            `SELECT off, ts, key, headers, payload FROM ${table} WHERE off >= ? ORDER BY off LIMIT ?`,
          )
          .raw(true),
      );
    }
    // The topic's budget is shared, so many partitions do not multiply the memory held. More
    // partitions mean smaller shares for all: the caches start over (reads fall back to SQLite).
    const { tailCacheMessages, tailCacheBytes } = this.options;
    const share = this.info.partitions;
    this.caches.length = 0;
    for (let p = 0; p < share; p++) {
      this.caches.push(new TailCache(Math.ceil(tailCacheMessages / share), Math.ceil(tailCacheBytes / share)));
    }
  }
}
