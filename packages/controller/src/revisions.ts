import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { DEFAULT_MEMORY_BYTES, DEFAULT_PIDS, RiffError, toRiffError } from "@riff/core";
import type { Invoker, PreparedFunction } from "@riff/runtime";
import { artifactDigest, copyArtifact } from "./artifacts.js";
import { IMAGE_DIGEST_PREFIX, type StoredFunction } from "./function-spec.js";
import type { ArtifactStore } from "./stores.js";

/** Written last into a revision folder: its presence says the folder is complete. */
const MARKER = ".riff-prepared.json";

/**
 * The code of each revision on this node, in `<dir>/<name>/rev-<n>/`: the artifact fetched by
 * its digest, then built once (npm install, javac) by its invoker. Replicas run this copy, so
 * messages in flight finish on the code they started on.
 */
export class RevisionFolders {
  constructor(
    private readonly dir: string,
    private readonly artifacts: ArtifactStore,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  folder(name: string, revision: number): string {
    return join(this.dir, name, `rev-${revision}`);
  }

  /**
   * The prepared code of `fn`'s revision: the folder as it was built before (after a restart),
   * or built now. `log` gets the build's progress.
   */
  async prepare(fn: StoredFunction, invoker: Invoker, log: (line: string) => void): Promise<PreparedFunction> {
    const dir = this.folder(fn.name, fn.revision);
    const ready = this.existing(fn, dir);
    if (ready !== undefined) return ready;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const artifact = await this.fetch(fn, dir);
    const code = describe(fn, dir, artifact);
    await invoker.prepare?.(code, log);
    const entry = code.artifact === dir ? "" : code.artifact.slice(dir.length + 1);
    writeFileSync(join(dir, MARKER), `${JSON.stringify({ digest: fn.digest, entry })}\n`);
    return code;
  }

  /** Deletes the revision folders of `name` other than those in `keep`. */
  prune(name: string, keep: number[]): void {
    const folder = join(this.dir, name);
    if (!existsSync(folder)) return;
    const kept = new Set(keep.map((r) => `rev-${r}`));
    for (const entry of readdirSync(folder)) {
      if (entry.startsWith("rev-") && !kept.has(entry)) rmSync(join(folder, entry), { recursive: true, force: true });
    }
  }

  /** Deletes every revision of `name`. */
  remove(name: string): void {
    this.prune(name, []);
  }

  private existing(fn: StoredFunction, dir: string): PreparedFunction | undefined {
    try {
      const marker = JSON.parse(readFileSync(join(dir, MARKER), "utf8")) as { digest: string; entry: string };
      if (marker.digest !== fn.digest) return undefined;
      return describe(fn, dir, marker.entry === "" ? dir : join(dir, marker.entry));
    } catch {
      return undefined;
    }
  }

  /** The artifact from the store; failing that, from the user's own path on this node when its content still matches. */
  private async fetch(fn: StoredFunction, dir: string): Promise<string> {
    if (fn.digest.startsWith(IMAGE_DIGEST_PREFIX)) return fromImage(fn, dir);
    try {
      return await this.artifacts.fetch(fn.digest, dir);
    } catch (err) {
      const e = toRiffError(err);
      if (e.code !== "RIFF_ARTIFACT_NOT_FOUND" || !existsSync(fn.artifact) || artifactDigest(fn.artifact) !== fn.digest) {
        throw new RiffError(e.code === "RIFF_INTERNAL" ? "RIFF_ARTIFACT_NOT_FOUND" : e.code, `the code of function '${fn.name}' revision ${fn.revision} cannot be fetched: ${e.message}`, {
          hint: `apply the function again (\`riff apply -f ${fn.source ?? "FILE"}\`)`,
          cause: err,
        });
      }
      await this.artifacts.upload(fn.artifact);
      return this.artifacts.fetch(fn.digest, dir);
    }
  }
}

/**
 * The code of a function whose image holds it: `artifact` in this container's file system
 * (relative to its working folder), copied like a fetched artifact so that it is built and run
 * the same way.
 */
function fromImage(fn: StoredFunction, dir: string): string {
  const image = fn.digest.slice(IMAGE_DIGEST_PREFIX.length);
  const path = isAbsolute(fn.artifact) ? fn.artifact : resolve(fn.artifact);
  if (!existsSync(path)) {
    throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `function '${fn.name}': the image ${image} holds no ${path} (spec.artifact)`, {
      hint: "build the image with the function's code at spec.artifact (an absolute path, or one relative to the image's working folder), or drop spec.container.image to run riff's invoker image with uploaded code",
    });
  }
  return copyArtifact(path, dir);
}

function describe(fn: StoredFunction, dir: string, artifact: string): PreparedFunction {
  // Functions stored before limits existed have none recorded: riff's defaults apply.
  const r = fn.resources as StoredFunction["resources"] | undefined;
  const limits = { memoryBytes: r?.memoryBytes ?? DEFAULT_MEMORY_BYTES, pids: r?.pids ?? DEFAULT_PIDS, cpu: r?.cpu };
  return { name: fn.name, revision: fn.revision, dir, artifact, handler: fn.handler, env: fn.env ?? {}, limits, network: fn.network ?? "host", source: source(fn.artifact) };
}

/** The user's folder of the artifact: error messages name it instead of riff's copy. */
function source(artifact: string): string {
  return statSync(artifact, { throwIfNoEntry: false })?.isDirectory() === true ? artifact : dirname(artifact);
}
