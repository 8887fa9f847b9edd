import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { chmod, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedBuild, once, riffCacheDir, runBuildTool } from "../build-tool.js";

/** The shim's source ships in src/ (tsc does not copy .java files to dist/). */
const SHIM_SOURCES = ["RiffShim.java", "RiffPool.java"].map((f) => fileURLToPath(new URL(`../../../src/invokers/java/${f}`, import.meta.url)));
/** What functions may import from riff (`riff.NonRetriableError`), compiled with the shim, on their class path. */
const SDK_SOURCES = [fileURLToPath(new URL("../../../src/invokers/java/riff/NonRetriableError.java", import.meta.url))];
/** Compiled into `warm-up/` of the shim's folder, off its class path: see WarmUp.java. */
const WARM_UP_SOURCE = fileURLToPath(new URL("../../../src/invokers/java/warm-up/WarmUp.java", import.meta.url));
/** Compiled shims, one folder per version of the source, next to dist/ (never committed). */
const SHIM_CACHE = riffCacheDir(".java-shim");

/** Runs javac; rejects with javac's own output, which is what a user needs to fix the code. */
export function javac(args: string[], cwd: string): Promise<string> {
  return runBuildTool("javac", args, { cwd, install: "a JDK (17 or later)" });
}

/**
 * `-XDstringConcat=inline`: string `+` as StringBuilder calls instead of invokedynamic, whose
 * first use bootstraps StringConcatFactory at a cost of milliseconds per cold start.
 */
const SHIM_JAVAC_FLAGS = ["-XDstringConcat=inline"];

/** The folder holding RiffShim.class (and riff's SDK classes), compiled once per version of their source. */
export const compiledShim = once(() => {
  const hash = createHash("sha256");
  for (const file of [...SHIM_SOURCES, ...SDK_SOURCES, WARM_UP_SOURCE]) hash.update(readFileSync(file));
  const key = hash.update(SHIM_JAVAC_FLAGS.join(" ")).digest("hex").slice(0, 16);
  return cachedBuild(SHIM_CACHE, key, "RiffShim.class", async (tmp) => {
    await javac([...SHIM_JAVAC_FLAGS, "-d", tmp, ...SHIM_SOURCES, ...SDK_SOURCES], tmp);
    await javac([...SHIM_JAVAC_FLAGS, "-d", join(tmp, "warm-up"), WARM_UP_SOURCE], tmp);
    // Readable by all: sandboxed replicas run as an unprivileged uid.
    for (const dir of ["riff", "warm-up", "warm-up/riffwarmup"]) await chmod(join(tmp, dir), 0o755);
  });
});

/** Every file under `dir` whose name ends with `suffix`, as paths relative to `dir`, sorted. */
export async function filesEndingWith(dir: string, suffix: string, skip: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .filter((p) => !skip.some((s) => p.startsWith(s)))
    .sort();
}
