import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { RiffError } from "@riff/core";
import type { ResourceStore, Revisioned, StoreEvent } from "./stores.js";
import { Watchers } from "./watchers.js";

/** Where a {@link FileResourceStore} keeps its records. */
export interface FileLayout {
  /** The JSON file of `name`. */
  file(name: string): string;
  /** The names present in the folder (those whose file may exist). */
  names(): string[];
  /** Removes what belongs to `name` besides its file, if anything. */
  remove?(name: string): void;
  /** The files' mode. @default 0o644 (less the umask) */
  mode?: number;
}

/**
 * A {@link ResourceStore} in the riff home, for one daemon: one JSON file per resource, written
 * atomically (a crash leaves the old or the new file, never half of one). Revisions are this
 * process's own counter: compare-and-set guards against writes interleaved within the daemon,
 * which is the only writer of its home.
 */
export class FileResourceStore<T> implements ResourceStore<T> {
  private readonly records = new Map<string, Revisioned<T>>();
  private readonly watchers = new Watchers<T>();
  private revision = 0;

  constructor(private readonly layout: FileLayout) {
    for (const name of layout.names()) {
      try {
        const value = JSON.parse(readFileSync(layout.file(name), "utf8")) as T;
        this.records.set(name, { name, value, revision: ++this.revision });
      } catch {
        // a folder without a complete file was never stored
      }
    }
  }

  list(): Promise<Revisioned<T>[]> {
    return Promise.resolve(this.snapshot());
  }

  get(name: string): Promise<Revisioned<T> | undefined> {
    return Promise.resolve(this.records.get(name));
  }

  watch(signal: AbortSignal): AsyncIterable<StoreEvent<T>> {
    return this.watchers.watch(signal, () => this.snapshot());
  }

  put(name: string, value: T, expectedRevision: number): Promise<number> {
    try {
      this.check(name, expectedRevision);
      const file = this.layout.file(name);
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, this.layout.mode === undefined ? {} : { mode: this.layout.mode });
      renameSync(tmp, file);
      const revision = ++this.revision;
      this.records.set(name, { name, value, revision });
      this.watchers.emit({ type: "put", name, value, revision });
      return Promise.resolve(revision);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  delete(name: string, expectedRevision?: number): Promise<void> {
    try {
      if (expectedRevision !== undefined) this.check(name, expectedRevision);
      rmSync(this.layout.file(name), { force: true });
      this.layout.remove?.(name);
      if (this.records.delete(name)) this.watchers.emit({ type: "delete", name, revision: ++this.revision });
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private snapshot(): Revisioned<T>[] {
    return [...this.records.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private check(name: string, expected: number): void {
    const current = this.records.get(name)?.revision ?? 0;
    if (current !== expected) throw conflict(name, expected, current);
  }
}

/**
 * The error of a compare-and-set write that lost a race. The store's versions go in the
 * details, not the message: they are not the function's revisions (`riff revisions`), and a
 * user reading "expected revision 0, found 34" would look for a revision 34.
 */
export function conflict(name: string, expected: number, actual: number | undefined): RiffError {
  const what = actual === undefined ? "deleted" : expected === 0 ? "created" : "changed";
  return new RiffError("RIFF_CONFLICT", `'${name}' was ${what} by someone else meanwhile; this change was not applied`, {
    hint: "see the current state with `riff list` or `riff describe`, then apply again",
    details: { name, storeVersion: { expected, found: actual ?? null } },
  });
}

/** `<dir>/<name>/<file>`: a folder per resource, which also holds other things (revision folders). */
export function folderLayout(dir: string, file: string): FileLayout {
  mkdirSync(dir, { recursive: true });
  return {
    file: (name) => `${dir}/${name}/${file}`,
    names: () => readdirSync(dir),
  };
}

/** `<dir>/<name>.json`. */
export function flatLayout(dir: string, mode?: number): FileLayout {
  // A folder of files only their owner reads (secrets) is itself only its owner's.
  mkdirSync(dir, { recursive: true, ...(mode === undefined ? {} : { mode: 0o700 }) });
  return {
    ...(mode === undefined ? {} : { mode }),
    file: (name) => `${dir}/${name}.json`,
    names: () => readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)),
  };
}
