import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { RiffError, type ResolvedFunction } from "@riff/core";
import type { PreparedFunction } from "@riff/runtime";

/** A deployed function as kept in the home: its resolved spec and the revision it runs. */
export interface StoredFunction extends ResolvedFunction {
  revision: number;
  /** Hash of the artifact's bytes, so re-applying unchanged code makes no new revision. */
  digest: string;
  /** The artifact's path inside a revision folder: its file name, or "" for a folder. */
  entry: string;
  createdAt: string;
  updatedAt: string;
}

const SKIP = new Set([".git", "node_modules"]);

/**
 * Keeps deployed functions in `<home>/functions/<name>/`: `function.json` and one folder per
 * revision holding a private copy of the artifact. Replicas run the copy, so editing the source
 * changes nothing until `riff update`, and messages in flight finish on the code they started on.
 */
export class FunctionStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  list(): StoredFunction[] {
    const out: StoredFunction[] = [];
    for (const name of readdirSync(this.dir)) {
      try {
        out.push(JSON.parse(readFileSync(join(this.dir, name, "function.json"), "utf8")) as StoredFunction);
      } catch {
        // a folder without a complete function.json was never deployed
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Writes atomically: a crash leaves the old or the new file, never half of one. */
  save(fn: StoredFunction): void {
    const dir = join(this.dir, fn.name);
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, "function.json.tmp");
    writeFileSync(tmp, `${JSON.stringify(fn, null, 2)}\n`);
    renameSync(tmp, join(dir, "function.json"));
  }

  remove(name: string): void {
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  /** Hashes the artifact (a file, or every file of a folder). */
  digest(artifact: string): string {
    const hash = createHash("sha256");
    const visit = (path: string) => {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st === undefined) {
        throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `artifact '${path}' does not exist`, {
          hint: "spec.artifact is relative to the YAML file; check the path, or pass --artifact to riff create",
        });
      }
      if (st.isDirectory()) {
        for (const entry of readdirSync(path).sort()) if (!SKIP.has(entry)) visit(join(path, entry));
      } else {
        hash.update(relative(artifact, path));
        hash.update(readFileSync(path));
      }
    };
    visit(artifact);
    return hash.digest("hex").slice(0, 16);
  }

  /** Copies the artifact into a new revision folder and says how a replica finds it. */
  prepare(fn: ResolvedFunction, revision: number): PreparedFunction {
    const dir = join(this.dir, fn.name, `rev-${revision}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const isDir = statSync(fn.artifact).isDirectory();
    const target = isDir ? dir : join(dir, basename(fn.artifact));
    cpSync(fn.artifact, target, {
      recursive: true,
      filter: (src) => !SKIP.has(basename(src)) || src === fn.artifact,
    });
    return { name: fn.name, revision, dir, artifact: target, handler: fn.handler, env: fn.env, source: isDir ? fn.artifact : dirname(fn.artifact) };
  }

  /** The prepared code of a stored revision. */
  prepared(fn: StoredFunction): PreparedFunction {
    const dir = join(this.dir, fn.name, `rev-${fn.revision}`);
    return { name: fn.name, revision: fn.revision, dir, artifact: join(dir, fn.entry), handler: fn.handler, env: fn.env ?? {} };
  }

  /** Deletes revision folders other than `keep`. */
  pruneRevisions(name: string, keep: number): void {
    for (const entry of readdirSync(join(this.dir, name))) {
      if (entry.startsWith("rev-") && entry !== `rev-${keep}`) rmSync(join(this.dir, name, entry), { recursive: true, force: true });
    }
  }
}
