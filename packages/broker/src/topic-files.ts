import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { RiffError, isValidName } from "@riff/core";
import { SqliteTopicLog, type TopicLogOptions } from "./topic-log.js";

/** The file a running broker holds locked, so two brokers never share a folder. */
export const LOCK_FILE = "riff-broker.lock";

/** What {@link openFolder} found. */
export interface OpenedFolder {
  /** Held until the broker stops; close it to release the folder. */
  lock: Database.Database;
  logs: SqliteTopicLog[];
  /** Topic files that could not be opened, with why; they are left alone. */
  failures: Map<string, string>;
}

/**
 * Creates `dir` if missing, takes its lock, and opens every topic file in it. Fails with
 * RIFF_DAEMON_ALREADY_RUNNING when another process holds the folder.
 */
export function openFolder(dir: string, options: TopicLogOptions): OpenedFolder {
  let files: string[];
  try {
    mkdirSync(dir, { recursive: true });
    files = readdirSync(dir).sort();
  } catch (err) {
    throw new RiffError(
      "RIFF_INTERNAL",
      `cannot use the broker data folder ${dir}: ${String(err)}`,
      {
        hint: "check that the folder exists or can be created, and that riff may write to it",
        cause: err,
      },
    );
  }
  const lock = lockFolder(dir);
  const logs: SqliteTopicLog[] = [];
  const failures = new Map<string, string>();
  for (const file of files) {
    const name = file.slice(0, -".db".length);
    if (!file.endsWith(".db") || !isValidName(name)) continue;
    try {
      logs.push(SqliteTopicLog.open(join(dir, file), name, options));
    } catch (err) {
      failures.set(name, err instanceof Error ? err.message : String(err));
    }
  }
  return { lock, logs, failures };
}

/**
 * Takes the folder's lock: an SQLite file held in exclusive locking mode until closed. The kernel
 * drops it when the process dies, so a crash never leaves a stale lock behind.
 */
function lockFolder(dir: string): Database.Database {
  const db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER)");
    db.transaction(() => {
      db.prepare("DELETE FROM holder").run();
      db.prepare("INSERT INTO holder (pid) VALUES (?)").run(process.pid);
    })();
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code !== "SQLITE_BUSY") throw err;
    throw new RiffError(
      "RIFF_DAEMON_ALREADY_RUNNING",
      `the broker data folder ${dir} is in use by another process`,
      {
        hint: "stop the other riff daemon that uses this folder, or give this one another",
        cause: err,
      },
    );
  }
}
