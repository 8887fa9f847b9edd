import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RiffError } from "@riff/core";
import type { PreparedFunction } from "../../invoker.js";
import { chooseEntry, EntryProblem } from "./entry.js";

/**
 * Builds a Node revision: installs a package's dependencies, picks the file a folder's
 * function is in (see chooseEntry), compiles TypeScript, and makes `@riff/sdk` importable from
 * the function's folder.
 *
 * The daemon's copy of a folder leaves out `.git` and every `node_modules`: a user's installed
 * packages (often hundreds of MB) are not copied into every revision; the packages a function
 * needs are the `dependencies` of its package.json, installed here in the copy.
 */
export async function prepareNode(fn: PreparedFunction, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  if (statSync(fn.artifact).isDirectory()) {
    if (existsSync(join(fn.artifact, "package.json"))) await installDependencies(fn, log, signal);
    // After the install: a package's install scripts may write the file its main names.
    const entry = pickEntry(fn);
    log(`loading ${entry.file}: ${entry.why}`);
    // The daemon keeps this file as the revision's entry, so replicas load it directly.
    fn.artifact = join(fn.artifact, entry.file);
  }
  linkSdk(fn.dir);
  if (fn.artifact.endsWith(".ts")) await compileTypeScript(fn.artifact, log);
}

/** chooseEntry, with its problem as the RiffError that fails the deployment. */
function pickEntry(fn: PreparedFunction): { file: string; why: string } {
  try {
    return chooseEntry(fn.artifact, fn.name, fn.source ?? fn.artifact);
  } catch (err) {
    if (!(err instanceof EntryProblem)) throw err;
    throw new RiffError(err.kind === "ambiguous" ? "RIFF_INVALID_ARGUMENT" : "RIFF_ARTIFACT_NOT_FOUND", err.message, { hint: err.hint });
  }
}

async function compileTypeScript(file: string, log: (line: string) => void): Promise<void> {
  log(`compiling ${file} with TypeScript`);
  // Loaded only here: typescript takes a few hundred ms to load, once per revision.
  const mod = (await import("typescript")) as typeof import("typescript") & { default?: typeof import("typescript") };
  const ts = mod.default ?? mod;
  const source = readFileSync(file, "utf8");
  const esm = /^\s*(import|export)\s/m.test(source);
  const out = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: {
      module: esm ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const text = errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n");
    throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `${file} does not compile:\n${text}`);
  }
  writeFileSync(`${file.slice(0, -3)}.riff.${esm ? "mjs" : "cjs"}`, out.outputText);
}

/** `@riff/sdk` resolves from the revision folder unless the package brings its own. */
function linkSdk(dir: string): void {
  const target = join(dir, "node_modules", "@riff", "sdk");
  if (existsSync(target)) return;
  const sdk = resolve(dirname(fileURLToPath(import.meta.resolve("@riff/sdk"))), "..");
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(sdk, target, "dir");
}

/**
 * `npm install --omit=dev` in the revision folder, with its output as progress. Relative
 * `file:` dependencies are made absolute first: they were written relative to the user's
 * folder, not to riff's copy of it; and they are copied in, not linked (`--install-links`),
 * since the sandbox shows a replica its revision's folder and nothing of the user's.
 */
/** The scripts `npm install` runs for the package itself, in this order. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];

async function installDependencies(fn: PreparedFunction, log: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const pkgPath = join(fn.dir, "package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as Record<string, Record<string, string> | undefined>;
  const deps = pkg["dependencies"] ?? {};
  // npm runs the package's own lifecycle scripts at install: a build step (`tsc`) lives there.
  const scripts = INSTALL_SCRIPTS.filter((s) => pkg["scripts"]?.[s] !== undefined);
  if (Object.keys(deps).length === 0 && scripts.length === 0) return;
  if (fn.source !== undefined) {
    for (const [name, spec] of Object.entries(deps)) {
      if (spec.startsWith("file:") && !isAbsolute(spec.slice(5))) deps[name] = `file:${resolve(fn.source, spec.slice(5))}`;
    }
    writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  }
  if (Object.keys(deps).length > 0) log(`installing dependencies: ${Object.keys(deps).join(", ")}`);
  for (const script of scripts) log(`running the package's ${script} script: ${pkg["scripts"]?.[script] ?? ""}`);
  await new Promise<void>((done, fail) => {
    const child = spawn("npm", ["install", "--omit=dev", "--install-links", "--no-audit", "--no-fund", "--no-package-lock", "--foreground-scripts"], {
      cwd: fn.dir,
      stdio: ["ignore", "pipe", "pipe"],
      ...(signal === undefined ? {} : { signal }),
    });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => {
        for (const line of chunk.split("\n").filter((l) => l.trim() !== "")) {
          log(`npm: ${line}`);
          tail.push(line);
          if (tail.length > 20) tail.shift();
        }
      });
    }
    child.once("error", (err) => fail(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `npm could not run: ${err.message}`)));
    child.once("exit", (code) => {
      if (code === 0) done();
      else fail(new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `npm install failed (exit code ${String(code)}):\n${tail.join("\n")}`));
    });
  });
  log("dependencies installed");
}
