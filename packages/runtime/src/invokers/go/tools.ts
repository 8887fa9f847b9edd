/**
 * riff's Go sources and the programs built from them once per Go toolchain: `riffgen`, which
 * reads a function's package, the plugin host, which serves a user's `-buildmode=plugin`
 * file, and the exec stub of the warm pool. All are cached under dist/ (inside riff's install
 * folder, which the sandbox mounts).
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { copyFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cachedBuild, once, riffCacheDir } from "../build-tool.js";
import { goEnv, goVersion, runGo } from "./toolchain.js";

/** The Go sources ship in src/ (tsc does not copy .go files to dist/). */
const SOURCES = fileURLToPath(new URL("../../../src/invokers/go/", import.meta.url));
const CACHE = riffCacheDir(".go-tools");

/** The file name of a built plugin host. */
export const PLUGIN_HOST = "riff-go-plugin-host";

/** riff's Go runtime (frames, content types, the serve loop): paths of its .go files. */
export function runtimeSources(): string[] {
  const dir = join(SOURCES, "riffgo");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".go") && !f.endsWith("_test.go"))
    .sort()
    .map((f) => join(dir, f));
}

/** Copies riff's Go runtime into `dir`, each file prefixed so it cannot clash with a user's. */
export async function copyRuntime(dir: string): Promise<void> {
  for (const file of runtimeSources()) await copyFile(file, join(dir, `riff_${file.slice(file.lastIndexOf("/") + 1)}`));
}

/** Builds `files` (package main) into `tmp/<out>`, as a module of its own. */
async function buildTool(tmp: string, files: string[], out: string, cgo: boolean): Promise<void> {
  for (const f of files) await copyFile(f, join(tmp, f.slice(f.lastIndexOf("/") + 1)));
  await writeFile(join(tmp, "go.mod"), "module riff.dev/tool\n\ngo 1.19\n");
  await runGo(["build", "-o", out, "."], tmp, goEnv(tmp, { cgo }));
}

async function keyOf(files: string[]): Promise<string> {
  const hash = createHash("sha256").update(await goVersion());
  for (const f of files) hash.update(f.slice(f.lastIndexOf("/"))).update(readFileSync(f));
  return hash.digest("hex").slice(0, 16);
}

/** The path of riffgen, built once per version of its source and of Go. */
export const riffgen = once(async () => {
  const files = [join(SOURCES, "riffgen", "main.go")];
  const dir = await cachedBuild(CACHE, `riffgen-${await keyOf(files)}`, "riffgen", (tmp) => buildTool(tmp, files, "riffgen", false));
  return join(dir, "riffgen");
});

/**
 * The plugin host. cgo is on: `plugin` needs the C loader. A plugin opens only in a host built
 * by the same toolchain, which the key's Go version makes sure of for plugins built here.
 */
export const pluginHost = once(async () => {
  const files = [...runtimeSources(), join(SOURCES, "plugin-host", "main.go")];
  const dir = await cachedBuild(CACHE, `plugin-host-${await keyOf(files)}`, PLUGIN_HOST, (tmp) => buildTool(tmp, files, PLUGIN_HOST, true));
  return join(dir, PLUGIN_HOST);
});

/** The file name of the pre-started replica that execs a compiled function. */
const EXEC_STUB = "riff-exec-stub";

/**
 * The warm pool's process for compiled functions (exec-stub/main.go): riff's frame format and
 * the stub, no cgo, so a static binary that starts in a few milliseconds.
 */
export const execStub = once(async () => {
  const files = [join(SOURCES, "riffgo", "frames.go"), join(SOURCES, "exec-stub", "main.go")];
  const dir = await cachedBuild(CACHE, `exec-stub-${await keyOf(files)}`, EXEC_STUB, (tmp) => buildTool(tmp, files, EXEC_STUB, false));
  return join(dir, EXEC_STUB);
});
