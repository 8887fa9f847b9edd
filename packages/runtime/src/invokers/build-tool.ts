/**
 * What the compiling invokers (java, go) share at `prepare` time: running a build tool with
 * its output streamed as progress, and a tool of riff's own compiled once per version into a
 * cache folder next to dist/.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RiffError } from "@riff/core";

/**
 * A cache folder of riff's (compiled shims, venvs, tools): `name` under `$RIFF_CACHE_DIR` when
 * it is set (an image whose install is read-only, as riff's Kubernetes images are), else next to
 * the runtime's dist/.
 */
export function riffCacheDir(name: string): string {
  const root = process.env["RIFF_CACHE_DIR"];
  return root !== undefined && root !== "" ? join(root, name) : fileURLToPath(new URL(`../../dist/${name}/`, import.meta.url));
}

/** How to run a build tool. */
export interface BuildToolOptions {
  cwd: string;
  /** @default the daemon's environment */
  env?: NodeJS.ProcessEnv;
  /** Each line of output as it comes, for progress in the CLI. */
  onLine?: (line: string) => void;
  /** What to install when the tool is not on PATH, for the error's hint. */
  install: string;
  signal?: AbortSignal;
}

/**
 * Runs `command`; resolves with its output (stdout and stderr, in order), or rejects with a
 * RiffError whose message is the tool's own output, which is what a user needs to fix the code.
 */
export function runBuildTool(command: string, args: string[], o: BuildToolOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], signal: o.signal });
    let output = "";
    let partial = "";
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      output += chunk.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (line !== "") o.onLine?.(line);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `${command} is not on PATH`, { hint: `install ${o.install}` }));
      } else reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `${command} failed: ${err.message}`, { cause: err }));
    });
    child.once("close", (code) => {
      if (partial !== "") o.onLine?.(partial);
      if (code === 0) resolve(output.trim());
      else reject(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `${command} failed:\n${output.trim() || `exit code ${String(code)}`}`));
    });
  });
}

/**
 * `cache/<key>`, built by `build(tmp)` when `cache/<key>/<marker>` is missing. Built into a
 * temporary folder and renamed, so a daemon that dies mid-build leaves no half-built cache,
 * and readable by all (mkdtemp makes 0700): sandboxed replicas run as an unprivileged uid.
 */
export async function cachedBuild(cache: string, key: string, marker: string, build: (tmp: string) => Promise<void>): Promise<string> {
  const dir = join(cache, key);
  if (existsSync(join(dir, marker))) return chmod(dir, 0o755).then(() => dir, () => dir);
  await mkdir(cache, { recursive: true });
  const tmp = await mkdtemp(join(cache, "tmp-"));
  try {
    await build(tmp);
    await chmod(tmp, 0o755);
    await rename(tmp, dir).catch(async (err: NodeJS.ErrnoException) => {
      // Another daemon built the same version meanwhile: use theirs.
      if (!existsSync(join(dir, marker))) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** A promise made once and kept, unless it fails: then the next call tries again. */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | undefined;
  return () => {
    kept ??= make().catch((err: unknown) => {
      kept = undefined;
      throw err;
    });
    return kept;
  };
}
