import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { RiffError } from "@riff/core";
import type { ArtifactStore } from "./stores.js";

/** Folders an artifact's digest and copies leave out: they are rebuilt, not deployed. */
export const SKIPPED_ENTRIES: ReadonlySet<string> = new Set([".git", "node_modules"]);

/**
 * The content digest of an artifact (a file, or every file of a folder with its relative
 * path), so re-applying unchanged code makes no new revision and nodes can cache it.
 */
export function artifactDigest(artifact: string): string {
  const hash = createHash("sha256");
  const visit = (path: string) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) throw artifactNotFound(path);
    if (st.isDirectory()) {
      for (const entry of readdirSync(path).sort()) if (!SKIPPED_ENTRIES.has(entry)) visit(join(path, entry));
    } else {
      hash.update(relative(artifact, path));
      hash.update(readFileSync(path));
    }
  };
  visit(artifact);
  return hash.digest("hex").slice(0, 16);
}

/** Suffix of the file that says what a kept copy holds: the artifact's file name, or "" for a folder. */
const KEPT_ENTRY = ".entry";

/** Copies an artifact (file or folder, without {@link SKIPPED_ENTRIES}) into `dir`; returns its path there. */
export function copyArtifact(artifact: string, dir: string): string {
  const st = statSync(artifact, { throwIfNoEntry: false });
  if (st === undefined) throw artifactNotFound(artifact);
  const target = st.isDirectory() ? dir : join(dir, basename(artifact));
  try {
    cpSync(artifact, target, { recursive: true, filter: (src) => !SKIPPED_ENTRIES.has(basename(src)) || src === artifact });
  } catch (err) {
    // A file riff may not read, a special file, a folder that holds the copy: the artifact's fault.
    throw new RiffError("RIFF_INVALID_ARGUMENT", `artifact '${artifact}' cannot be copied: ${(err as Error).message}`, {
      hint: "point spec.artifact (riff create --artifact) at a readable file, or a folder of your function's own files",
      cause: err,
    });
  }
  return target;
}

export function artifactNotFound(path: string): RiffError {
  return new RiffError("RIFF_ARTIFACT_NOT_FOUND", `artifact '${path}' does not exist`, {
    hint: "spec.artifact is relative to the YAML file; check the path, or pass --artifact to riff create",
  });
}

/**
 * The artifact store of one daemon: the code stays in the user's folder until a revision is
 * made, when it is copied into the revision's own folder, so editing the source changes
 * nothing until `riff update`. With `dir`, each distinct code is also kept there once, by
 * digest: `riff rollback` needs an earlier revision's code after the user's file changed.
 */
export class LocalArtifactStore implements ArtifactStore {
  private readonly paths = new Map<string, string>();

  /** @param dir where each distinct code is kept by digest (default: nowhere; the user's path only) */
  constructor(private readonly dir?: string) {}

  upload(path: string): Promise<string> {
    try {
      const digest = artifactDigest(path);
      this.paths.set(digest, path);
      this.keep(digest, path);
      return Promise.resolve(digest);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Copies the code into `<dir>/<digest>` unless it is there. The `<digest>.entry` file next to
   * it (the artifact's name in it, "" for a folder) is written last: without it, a copy a crash
   * cut short is made again.
   */
  private keep(digest: string, path: string): void {
    if (this.dir === undefined || existsSync(join(this.dir, `${digest}${KEPT_ENTRY}`))) return;
    const folder = join(this.dir, digest);
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    let copied: string;
    try {
      copied = copyArtifact(path, folder);
    } catch (err) {
      rmSync(folder, { recursive: true, force: true });
      throw err;
    }
    writeFileSync(join(this.dir, `${digest}${KEPT_ENTRY}`), copied === folder ? "" : basename(copied));
  }

  /** The kept copy of `digest`, as an artifact path (a file, or a folder), if there is one. */
  private kept(digest: string): string | undefined {
    if (this.dir === undefined || !/^[0-9a-f]+$/.test(digest)) return undefined;
    const folder = join(this.dir, digest);
    try {
      const entry = readFileSync(join(this.dir, `${digest}${KEPT_ENTRY}`), "utf8");
      return entry === "" ? folder : join(folder, entry);
    } catch {
      return undefined;
    }
  }

  fetch(digest: string, dir: string): Promise<string> {
    const path = this.kept(digest) ?? this.paths.get(digest);
    if (path === undefined) {
      return Promise.reject(new RiffError("RIFF_ARTIFACT_NOT_FOUND", `no artifact with digest ${digest} was uploaded to this daemon`, {
        hint: "apply the function again (`riff apply -f FILE`)",
      }));
    }
    try {
      return Promise.resolve(copyArtifact(path, dir));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

/**
 * The Dockerfile next to a YAML file, as Project riff's `riff init` wrote it: its base image and
 * FUNCTION_URI name the invoker and the artifact of riff's Function documents, which carry
 * neither (the parse options of `parseDocuments`).
 */
export function dockerfileNextTo(file: string): { dockerfile?: string } {
  try {
    return { dockerfile: readFileSync(join(dirname(file), "Dockerfile"), "utf8") };
  } catch {
    return {};
  }
}
