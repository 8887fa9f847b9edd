import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { RiffError, isValidName } from "@riff/core";
import { SqliteTopicLog, type TopicLogOptions } from "./topic-log.js";

/**
 * Opens every topic file in `dir` (created if missing). A file that cannot be opened is reported
 * in `failures` with the reason, and left alone.
 */
export function openTopicFiles(
  dir: string,
  options: TopicLogOptions,
): { logs: SqliteTopicLog[]; failures: Map<string, string> } {
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
  return { logs, failures };
}
