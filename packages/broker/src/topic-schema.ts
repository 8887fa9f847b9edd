import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Logger } from "@riff/core";
import type { TopicInfo } from "./broker.js";
import { type WalScan, describeWalCut, scanWal } from "./wal-scan.js";

/** Bumped when the layout of a topic file changes; a file of another version is refused. */
export const TOPIC_FILE_FORMAT = "1";
/** WAL files are truncated back to this size after a checkpoint, so a burst does not keep disk. */
const JOURNAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/**
 * Page cache of each topic file's connection, in KiB. better-sqlite3 builds SQLite with a
 * 16 MB default (SQLITE_DEFAULT_CACHE_SIZE=-16000), and a topic that is written without pause
 * fills it: 16 MiB of the daemon's memory per busy topic. Appends touch only the right edge of
 * the table, and caught-up consumers read the tail cache, not SQLite; a backlog read past the
 * cache costs a read() from the OS's page cache instead.
 */
const PAGE_CACHE_KIB = 2048;

/** The table holding partition `p`'s messages. */
export function partitionTable(p: number): string {
  return `p${p}`;
}

/** Opens a topic file with riff's pragmas; with `info`, also lays out a new, empty topic. */
export function openTopicDb(path: string, info: TopicInfo | undefined): Database.Database {
  // No busy wait: the broker is the only user of its files, so a lock held elsewhere means
  // another process runs a broker on this folder, which must fail at once, not after 5 s.
  const db = new Database(path, { timeout: 0 });
  try {
    if (info !== undefined) {
      // auto_vacuum must be chosen before the first table exists; INCREMENTAL lets retention
      // give pages back to the file system without rewriting the whole file.
      db.pragma("auto_vacuum = INCREMENTAL");
    }
    // Offsets are assigned in this process's memory, so a second writer would corrupt the log;
    // the folder lock (topic-files.ts) keeps other brokers out. The files stay in shared mode
    // so that the checkpoint thread can open them (checkpointer.ts).
    db.pragma("journal_mode = WAL");
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    // Checkpoints run on the checkpoint thread; here they would stall the event loop.
    db.pragma("wal_autocheckpoint = 0");
    db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    if (info !== undefined) createSchema(db, info);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Sets `synchronous` for the topic's durability mode. */
export function applyDurability(db: Database.Database, info: TopicInfo): void {
  // In WAL mode NORMAL makes each COMMIT a write() into the WAL: it survives the process being
  // killed but not a power loss. FULL adds an fsync of the WAL per COMMIT.
  db.pragma(`synchronous = ${info.durability === "fsync" ? "FULL" : "NORMAL"}`);
}

function createSchema(db: Database.Database, info: TopicInfo): void {
  db.transaction(() => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE partitions (
        partition INTEGER PRIMARY KEY,
        start INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE TABLE groups (
        grp TEXT NOT NULL,
        partition INTEGER NOT NULL,
        committed INTEGER NOT NULL,
        PRIMARY KEY (grp, partition)
      ) WITHOUT ROWID;
    `);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("format", TOPIC_FILE_FORMAT);
    put.run("clean", "0");
    put.run("config", JSON.stringify(info));
    addPartitionTables(db, 0, info.partitions);
  })();
}

/** Creates the tables of partitions `from` to `to - 1`; call inside a transaction. */
export function addPartitionTables(db: Database.Database, from: number, to: number): void {
  const row = db.prepare("INSERT INTO partitions (partition, start, bytes) VALUES (?, 0, 0)");
  for (let p = from; p < to; p++) {
    // `off` is the rowid: appends are B-tree appends, and reads by offset are rowid seeks.
    db.exec(`CREATE TABLE ${partitionTable(p)} (
      off INTEGER PRIMARY KEY,
      ts INTEGER NOT NULL,
      key TEXT,
      headers TEXT,
      payload BLOB NOT NULL
    )`);
    row.run(p);
  }
}

/** What {@link readTopicState} recovers from a topic file. */
export interface StoredTopicState {
  info: TopicInfo;
  start: number[];
  end: number[];
  bytes: number[];
  groups: Map<string, number[]>;
  /** False when the previous run did not close the file (crash or kill). */
  clean: boolean;
}

/**
 * Reads a topic's settings, offsets and groups, and checks what is cheap to check: the format,
 * one table per partition, offsets that agree with the stored start, committed offsets that are
 * not past the end. Problems that can be repaired are repaired and logged; others throw.
 */
export function readTopicState(
  db: Database.Database,
  name: string,
  logger: Logger,
): StoredTopicState {
  const meta = new Map(
    (db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map(
      (r) => [r.key, r.value],
    ),
  );
  if (meta.get("format") !== TOPIC_FILE_FORMAT) {
    throw new Error(
      `unsupported topic file format ${String(meta.get("format"))} (expected ${TOPIC_FILE_FORMAT})`,
    );
  }
  const stored = JSON.parse(meta.get("config") ?? "null") as TopicInfo | null;
  if (stored === null || stored.name !== name)
    throw new Error("the topic file has no settings for this topic");
  // Files written before topics had `replicas` hold one copy, as every embedded topic does.
  const info: TopicInfo = { ...stored, replicas: stored.replicas ?? 1 };
  const rows = db
    .prepare("SELECT partition, start, bytes FROM partitions ORDER BY partition")
    .all() as {
    partition: number;
    start: number;
    bytes: number;
  }[];
  if (rows.length !== info.partitions || rows.some((r, i) => r.partition !== i)) {
    throw new Error(
      `the topic file lists ${rows.length} partitions, its settings say ${info.partitions}`,
    );
  }
  const start: number[] = [];
  const end: number[] = [];
  const bytes: number[] = [];
  for (const row of rows) {
    const table = partitionTable(row.partition);
    const range = db.prepare(`SELECT min(off) AS lo, max(off) AS hi FROM ${table}`).get() as {
      lo: number | null;
      hi: number | null;
    };
    let first = row.start;
    if (range.lo !== null && range.lo < row.start) {
      logger.warn("partition holds messages below its recorded start; keeping them", {
        topic: name,
        partition: row.partition,
        start: row.start,
        lowest: range.lo,
      });
      first = range.lo;
    }
    start.push(first);
    end.push(range.hi === null ? first : Math.max(first, range.hi + 1));
    bytes.push(Math.max(0, row.bytes));
  }
  const groups = new Map<string, number[]>();
  for (const g of db.prepare("SELECT grp, partition, committed FROM groups").all() as {
    grp: string;
    partition: number;
    committed: number;
  }[]) {
    const end_ = end[g.partition];
    if (end_ === undefined) continue;
    let committed = g.committed;
    if (committed > end_) {
      logger.warn("group committed past the end of the partition; moving it back to the end", {
        topic: name,
        group: g.grp,
        partition: g.partition,
        committed,
        end: end_,
      });
      committed = end_;
    }
    // A partition the group never committed on (added later) is read from its start.
    const list = groups.get(g.grp) ?? [...start];
    list[g.partition] = committed;
    groups.set(g.grp, list);
  }
  return { info, start, end, bytes, groups, clean: meta.get("clean") !== "0" };
}

/** Runs `PRAGMA quick_check`; returns the problems found (empty when the file is sound). */
export function quickCheck(db: Database.Database): string[] {
  const rows = db.pragma("quick_check(20)") as { quick_check: string }[];
  return rows.map((r) => r.quick_check).filter((r) => r !== "ok");
}

/** Records whether the file is open (`false`) or was closed cleanly (`true`). */
export function markClean(db: Database.Database, clean: boolean): void {
  db.prepare("UPDATE meta SET value = ? WHERE key = 'clean'").run(clean ? "1" : "0");
}

/** The path of a topic's SQLite file. Topic names are DNS labels, so they are safe file names. */
export function topicFile(dir: string, name: string): string {
  return join(dir, `${name}.db`);
}

/** Deletes a topic's database, WAL and shared-memory files, whichever exist. */
export function removeTopicFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

/** Size of a file, 0 when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Reads the topic's WAL as SQLite's recovery will, to report later what recovery cuts off. Call
 * it before the file is opened: once SQLite has recovered, the next write overwrites the cut part.
 * Never throws: the scan only adds to a log line, so a failure is logged at debug and ignored.
 */
export function scanTopicWal(path: string, name: string, logger: Logger): WalScan | undefined {
  try {
    return scanWal(`${path}-wal`);
  } catch (err) {
    logger.debug("could not scan the WAL before opening the topic", {
      topic: name,
      error: String(err),
    });
    return undefined;
  }
}

/**
 * Logs what SQLite's recovery cut off the end of the WAL (see {@link scanTopicWal}); call once
 * the file is open and readable, since the line says that everything before the cut is served.
 */
export function reportWalCut(wal: WalScan | undefined, name: string, logger: Logger): void {
  if (wal === undefined) return;
  const line = describeWalCut(name, wal);
  const fields = { topic: name, ...wal };
  if (line !== undefined) logger.warn(line, fields);
  else if (wal.leftoverBytes > 0) {
    // Routine: a WAL restart rewinds without truncating, so older frames follow the new ones.
    logger.debug(
      "the WAL ends in frames from before its last restart, which SQLite ignores",
      fields,
    );
  }
}

/**
 * Logs that a topic file was not closed cleanly (the WAL was recovered on open) and, when the
 * file is small enough for it to be quick, runs `PRAGMA quick_check` and logs what it finds.
 */
export function reportUncleanShutdown(
  db: Database.Database,
  path: string,
  name: string,
  options: { logger: Logger; quickCheckMaxBytes: number },
): void {
  const size = fileSize(path);
  if (size > options.quickCheckMaxBytes) {
    options.logger.warn(
      "topic was not closed cleanly; WAL recovered, file too large for quick_check",
      { topic: name, size },
    );
    return;
  }
  const problems = quickCheck(db);
  if (problems.length > 0) {
    options.logger.error("topic file failed quick_check", { topic: name, problems });
  } else {
    options.logger.info("topic was not closed cleanly; WAL recovered, quick_check ok", {
      topic: name,
    });
  }
}
