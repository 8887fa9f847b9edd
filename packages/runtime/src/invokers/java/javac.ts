import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RiffError } from "@riff/core";

/** The shim's source ships in src/ (tsc does not copy .java files to dist/). */
const SHIM_SOURCE = fileURLToPath(new URL("../../../src/invokers/java/RiffShim.java", import.meta.url));
/** What functions may import from riff (`riff.NonRetriableError`), compiled with the shim, on their class path. */
const SDK_SOURCES = [fileURLToPath(new URL("../../../src/invokers/java/riff/NonRetriableError.java", import.meta.url))];
/** Compiled shims, one folder per version of the source, next to dist/ (never committed). */
const SHIM_CACHE = fileURLToPath(new URL("../../../dist/.java-shim/", import.meta.url));

/** Runs javac; rejects with javac's own output, which is what a user needs to fix the code. */
export function javac(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("javac", args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      if (err === null) resolve(output);
      else if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", "javac is not on PATH", { hint: "install a JDK (17 or later)" }));
      } else reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `javac failed:\n${output || err.message}`));
    });
  });
}

/**
 * `-XDstringConcat=inline`: string `+` as StringBuilder calls instead of invokedynamic, whose
 * first use bootstraps StringConcatFactory at a cost of milliseconds per cold start.
 */
const SHIM_JAVAC_FLAGS = ["-XDstringConcat=inline"];

let shim: Promise<string> | undefined;

/**
 * The folder holding RiffShim.class, compiled once per version of its source. Compiled into a
 * temporary folder and renamed, so a daemon that dies mid-compile leaves no half-built cache.
 */
export function compiledShim(): Promise<string> {
  shim ??= (async () => {
    const hash = createHash("sha256");
    for (const file of [SHIM_SOURCE, ...SDK_SOURCES]) hash.update(readFileSync(file));
    const dir = join(SHIM_CACHE, hash.update(SHIM_JAVAC_FLAGS.join(" ")).digest("hex").slice(0, 16));
    // Readable by all (mkdtemp makes 0700): sandboxed replicas run as an unprivileged uid.
    if (existsSync(join(dir, "RiffShim.class"))) return chmod(dir, 0o755).then(() => dir, () => dir);
    await mkdir(SHIM_CACHE, { recursive: true });
    const tmp = await mkdtemp(join(SHIM_CACHE, "tmp-"));
    try {
      await javac([...SHIM_JAVAC_FLAGS, "-d", tmp, SHIM_SOURCE, ...SDK_SOURCES], tmp);
      await chmod(join(tmp, "riff"), 0o755);
      await chmod(tmp, 0o755);
      await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
        // Another daemon compiled the same version meanwhile: use theirs.
        if (!existsSync(join(dir, "RiffShim.class"))) throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return dir;
  })().catch((err: unknown) => {
    shim = undefined;
    throw err;
  });
  return shim;
}

/** Every file under `dir` whose name ends with `suffix`, as paths relative to `dir`, sorted. */
export async function filesEndingWith(dir: string, suffix: string, skip: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .filter((p) => !skip.some((s) => p.startsWith(s)))
    .sort();
}
