/**
 * A Python function's `requirements.txt`, installed at create into a virtualenv. The venv is
 * cached by the file's content and the interpreter, so every revision with the same
 * requirements shares one, built once.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cachedBuild, riffCacheDir, runBuildTool } from "../build-tool.js";
import type { PythonInterpreter } from "./interpreter.js";

/** The file that makes a Python folder a project with dependencies. */
export const REQUIREMENTS = "requirements.txt";

/**
 * Venvs, one folder per (requirements, interpreter), next to dist/: inside riff's install
 * folder, which the sandbox mounts read-only at the same path, and never in the riff home,
 * which a replica must not see.
 */
const VENV_CACHE = riffCacheDir(".python-venvs");

/** Written last into a finished venv: a venv without it was never completed. */
const MARKER = "riff-installed";

/** The cache key of a revision's requirements, or undefined when it has none. */
function venvKey(dir: string, python: PythonInterpreter): string | undefined {
  const file = join(dir, REQUIREMENTS);
  if (!existsSync(file)) return undefined;
  return createHash("sha256").update(python.executable).update("\0").update(python.version).update("\0").update(readFileSync(file)).digest("hex").slice(0, 16);
}

/** The venv's site-packages folder (the shim runs with -S and adds site folders itself). */
function sitePackages(venv: string, python: PythonInterpreter): string {
  const [major, minor] = python.version.split(".");
  return join(venv, "lib", `python${major ?? "3"}.${minor ?? ""}`, "site-packages");
}

/**
 * The site-packages of the revision's venv, built now if this requirements.txt has none yet;
 * undefined without a requirements.txt. pip runs from the interpreter's own installation
 * against a venv made `--without-pip` (`pip --python`): bootstrapping pip into every venv
 * costs seconds. pip reads its usual configuration (pip.conf, `PIP_INDEX_URL`,
 * `PIP_FIND_LINKS`, `PIP_NO_INDEX`) from the daemon's environment; its output streams to `log`,
 * and a failure fails the create with pip's own message.
 */
export async function installRequirements(dir: string, python: PythonInterpreter, log: (line: string) => void, signal?: AbortSignal): Promise<string | undefined> {
  const key = venvKey(dir, python);
  if (key === undefined) return undefined;
  if (existsSync(join(VENV_CACHE, key, MARKER))) {
    log(`${REQUIREMENTS}: reusing its virtualenv (${key})`);
    return sitePackages(join(VENV_CACHE, key), python);
  }
  log(`${REQUIREMENTS}: installing into a new virtualenv (${key})`);
  /** Runs `python -m <tool>`: its lines are progress, its failure names the tool, not the interpreter's machine path. */
  const run = (tool: "venv" | "pip", args: string[]) =>
    runBuildTool(python.executable, ["-m", tool, ...args], { cwd: dir, install: "Python 3 with pip and venv", onLine: (line) => log(`${tool}: ${line}`), ...(signal === undefined ? {} : { signal }) })
      .catch((err: unknown) => {
        if (err instanceof Error) err.message = err.message.replace(python.executable, tool);
        throw err;
      });
  const venv = await cachedBuild(VENV_CACHE, key, MARKER, async (tmp) => {
    await run("venv", ["--without-pip", tmp]);
    const pipFlags = ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"];
    // cwd is the revision folder, so relative paths in requirements.txt mean what they did.
    await run("pip", ["--python", join(tmp, "bin", "python"), "install", ...pipFlags, "-r", join(dir, REQUIREMENTS)]);
    await writeFile(join(tmp, MARKER), "");
  });
  log(`${REQUIREMENTS}: installed`);
  return sitePackages(venv, python);
}

/** The site-packages of the revision's venv, already built by `installRequirements`. */
export function requirementsSite(dir: string, python: PythonInterpreter): string | undefined {
  const key = venvKey(dir, python);
  return key === undefined ? undefined : sitePackages(join(VENV_CACHE, key), python);
}
