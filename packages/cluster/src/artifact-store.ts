import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { RiffError } from "@riff/core";
import { artifactDigest, artifactNotFound, SKIPPED_ENTRIES, type ArtifactStore } from "@riff/controller";
import type { ObjectStore } from "nats";
import { create, extract } from "tar";

/** What an artifact is, kept beside its bytes: a file (by name) or a folder. */
interface ArtifactMeta {
  kind: "file" | "dir";
  name: string;
}

/**
 * Function code in the cluster's object store, by content digest, so that a function created
 * on node A runs on node B: `upload` packs the user's file or folder (a tar, without `.git` and
 * `node_modules`) once per digest; `fetch` unpacks it once per node into `<cache>/<digest>` and
 * copies it into each revision folder from there.
 */
export class ObjectArtifactStore implements ArtifactStore {
  constructor(
    private readonly os: ObjectStore,
    private readonly cacheDir: string,
  ) {
    mkdirSync(cacheDir, { recursive: true });
  }

  async upload(path: string): Promise<string> {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) throw artifactNotFound(path);
    const digest = artifactDigest(path);
    if ((await this.os.info(digest)) !== null) return digest;
    const meta: ArtifactMeta = st.isDirectory() ? { kind: "dir", name: basename(path) } : { kind: "file", name: basename(path) };
    const cwd = st.isDirectory() ? path : dirname(path);
    const entries = st.isDirectory() ? ["."] : [basename(path)];
    const chunks: Buffer[] = [];
    const pack = create({ cwd, portable: true, filter: (p) => !p.split("/").some((part) => SKIPPED_ENTRIES.has(part)) }, entries);
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
    await this.os.putBlob({ name: digest, description: JSON.stringify(meta) }, Buffer.concat(chunks));
    return digest;
  }

  async fetch(digest: string, dir: string): Promise<string> {
    const cached = join(this.cacheDir, digest);
    if (!existsSync(join(cached, ".riff-artifact.json"))) await this.unpack(digest, cached);
    const meta = JSON.parse(readFileSync(join(cached, ".riff-artifact.json"), "utf8")) as ArtifactMeta;
    const content = join(cached, "content");
    if (meta.kind === "file") {
      cpSync(join(content, meta.name), join(dir, meta.name));
      return join(dir, meta.name);
    }
    cpSync(content, dir, { recursive: true });
    return dir;
  }

  /** Downloads and unpacks `digest` into `target`, atomically (a crash leaves no half copy). */
  private async unpack(digest: string, target: string): Promise<void> {
    const [info, data] = await Promise.all([this.os.info(digest), this.os.getBlob(digest)]);
    if (info === null || data === null) {
      throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `artifact ${digest} is not in the cluster's store`, {
        hint: "apply the function again from a node that has its files (`riff apply -f FILE`)",
      });
    }
    const tmp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
    mkdirSync(join(tmp, "content"), { recursive: true });
    try {
      await new Promise<void>((resolve, reject) => {
        const x = extract({ cwd: join(tmp, "content") });
        x.on("error", reject);
        x.on("finish", resolve);
        x.end(Buffer.from(data));
      });
      writeFileSync(join(tmp, ".riff-artifact.json"), info.description ?? "{}");
      rmSync(target, { recursive: true, force: true });
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}
