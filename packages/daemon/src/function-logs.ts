import { EventEmitter } from "node:events";
import { createWriteStream, mkdirSync, readFileSync, renameSync, rmSync, statSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { LogLine } from "@riff/runtime";

/** Bytes per function log before it is rotated to `<name>.log.1`. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;
/** Lines per function kept in memory for `riff logs`. */
const RECENT_LINES = 2000;

/**
 * Every replica's stdout and stderr, one file per function in `<home>/logs`, each line stamped
 * with time, replica and stream. Followers (`riff logs -f`) get new lines as they are written.
 */
export class FunctionLogs {
  private readonly streams = new Map<string, { out: WriteStream; bytes: number }>();
  private readonly events = new EventEmitter();
  /** Recent lines in memory: a read followed by a follow in the same tick then misses nothing. */
  private readonly recent = new Map<string, string[]>();

  /**
   * `node`: in a cluster, this node's name, which prefixes each replica (`n1/square-1-2`);
   * `tap`: also gets every line written (a cluster sends them to the other nodes' followers).
   */
  constructor(
    private readonly dir: string,
    private readonly options: { node?: string; tap?: (fn: string, text: string) => void } = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.events.setMaxListeners(0);
  }

  /** Appends a line from a replica of `fn`. */
  write(fn: string, line: LogLine): void {
    const replica = this.options.node === undefined ? line.replica : `${this.options.node}/${line.replica}`;
    const text = `${new Date().toISOString()} ${replica} ${line.stream}: ${line.line}\n`;
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
      const out = createWriteStream(path, { flags: "a" });
      // Logs are best effort: a full disk must not take the daemon down with them.
      out.on("error", () => {});
      entry = { out, bytes };
      this.streams.set(fn, entry);
    }
    const recent = this.recent.get(fn) ?? this.loadRecent(fn);
    recent.push(text);
    if (recent.length > RECENT_LINES) recent.splice(0, recent.length - RECENT_LINES);
    entry.bytes += text.length;
    entry.out.write(text);
    this.events.emit(fn, text);
    this.options.tap?.(fn, text);
  }

  /** The last `tail` lines of a function's log (at most the lines kept in memory). */
  read(fn: string, tail: number): string {
    if (tail <= 0) return "";
    return (this.recent.get(fn) ?? this.loadRecent(fn)).slice(-tail).join("");
  }

  private loadRecent(fn: string): string[] {
    let lines: string[] = [];
    try {
      lines = readFileSync(this.path(fn), "utf8").split("\n");
      if (lines.at(-1) === "") lines.pop();
    } catch {
      // no log yet
    }
    const recent = lines.slice(-RECENT_LINES).map((l) => `${l}\n`);
    this.recent.set(fn, recent);
    return recent;
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
    this.recent.delete(fn);
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
