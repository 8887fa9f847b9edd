import { EventEmitter } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, statSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { LogLine } from "@riff/runtime";

/** Bytes per function log before it is rotated to `<name>.log.1`. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;

/**
 * Every replica's stdout and stderr, one file per function in `<home>/logs`, each line stamped
 * with time, replica and stream. Followers (`riff logs -f`) get new lines as they are written.
 */
export class FunctionLogs {
  private readonly streams = new Map<string, { out: WriteStream; bytes: number }>();
  private readonly events = new EventEmitter();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.events.setMaxListeners(0);
  }

  /** Appends a line from a replica of `fn`. */
  write(fn: string, line: LogLine): void {
    const text = `${new Date().toISOString()} ${line.replica} ${line.stream}: ${line.line}\n`;
    let entry = this.streams.get(fn);
    if (entry === undefined || entry.bytes > MAX_LOG_BYTES) {
      const path = this.path(fn);
      if (entry !== undefined) {
        entry.out.end();
        renameSync(path, `${path}.1`);
      }
      let bytes = 0;
      try {
        bytes = statSync(path).size;
      } catch {
        // a new file
      }
      entry = { out: createWriteStream(path, { flags: "a" }), bytes };
      this.streams.set(fn, entry);
    }
    entry.bytes += text.length;
    entry.out.write(text);
    this.events.emit(fn, text);
  }

  /** The last `tail` lines of a function's log. */
  read(fn: string, tail: number): string {
    let text: string;
    try {
      text = readFileSync(this.path(fn), "utf8");
    } catch {
      return "";
    }
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines.slice(-tail).map((l) => `${l}\n`).join("");
  }

  /** Calls `listener` with each new line; returns the unsubscribe function. */
  follow(fn: string, listener: (text: string) => void): () => void {
    this.events.on(fn, listener);
    return () => this.events.off(fn, listener);
  }

  /** Removes a deleted function's log. */
  remove(fn: string): void {
    this.streams.get(fn)?.out.end();
    this.streams.delete(fn);
    rmSync(this.path(fn), { force: true });
    rmSync(`${this.path(fn)}.1`, { force: true });
  }

  close(): void {
    for (const { out } of this.streams.values()) out.end();
    this.streams.clear();
  }

  private path(fn: string): string {
    return join(this.dir, `${fn}.log`);
  }
}
