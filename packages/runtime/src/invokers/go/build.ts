/**
 * Compiles a Go function at `prepare`: reads its package with riffgen, picks the handler,
 * writes a `main` package that serves it over riff's frames, and builds one binary into the
 * revision folder, which is what the sandbox mounts and replicas run.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { RiffError } from "@riff/core";
import type { PreparedFunction } from "../../invoker.js";
import { titleCase } from "../names.js";
import { goEnv, goVersion, runGo } from "./toolchain.js";
import { copyRuntime, riffgen } from "./tools.js";

/** The binary `prepare` builds, in the revision folder. */
export const FUNCTION_BINARY = "riff-go-function";
/** The generated main package, inside the function's module. */
const MAIN_DIR = "riff-main";
/** A `package main` of the user's, copied as an importable package. */
const COPY_DIR = "riff-fn";
/** The module path riff gives a package that has no go.mod. */
const DEFAULT_MODULE = "riff.fn";

/** What riffgen reports about a package (riffgen/main.go). */
interface PackageReport {
  package: string;
  files: { name: string; packageNameOffset: number }[] | null;
  funcs: { name: string; file: string; line: number; problem: string }[] | null;
  cgo: boolean;
  errors: string[] | null;
}

/** The folder of the function's package: the artifact folder, or the folder of a .go file. */
export function packageDir(fn: PreparedFunction): string {
  return statSync(fn.artifact).isDirectory() ? fn.artifact : dirname(fn.artifact);
}

/** Builds `fn`'s package into `<dir>/riff-go-function`, logging go's progress. */
export async function buildFunction(fn: PreparedFunction, log: (line: string) => void): Promise<void> {
  const dir = packageDir(fn);
  const started = Date.now();
  const report = await scan(dir);
  if (report.errors !== null && report.errors.length > 0) {
    // The compiler's own words are what a Go developer knows: let go build say it.
    await compile(dir, ["build", "-o", "/dev/null", "."], report.cgo, log);
    throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `go cannot read the package in ${dir}:\n${report.errors.join("\n")}`);
  }
  const files = report.files ?? [];
  if (files.length === 0) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `${dir} has no Go files to build`, { hint: "pass --artifact with a .go file, a package folder, or a plugin .so" });
  }
  const handler = chooseHandler(fn, report, dir);
  const module = await modulePath(dir);
  let importPath = module;
  if (report.package === "main") {
    await copyAsPackage(dir, files);
    importPath = `${module}/${COPY_DIR}`;
  }
  const vendored = existsSync(join(dir, "vendor", "modules.txt"));
  log(`go: building ${handler} of package ${report.package} with ${await goVersion()}${vendored ? ", dependencies from vendor/" : ""}${report.cgo ? ", cgo" : ""}`);
  await mkdir(join(dir, MAIN_DIR), { recursive: true });
  await copyRuntime(join(dir, MAIN_DIR));
  await writeFile(join(dir, MAIN_DIR, "main.go"), generatedMain(importPath, report.package, handler, fn.dir));
  await compile(dir, ["build", "-v", "-o", join(fn.dir, FUNCTION_BINARY), `./${MAIN_DIR}`], report.cgo, log);
  log(`go: built ${FUNCTION_BINARY} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function scan(dir: string): Promise<PackageReport> {
  const { stdout } = await promisify(execFile)(await riffgen(), [dir], { env: goEnv(dir, { cgo: false }), maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as PackageReport;
}

/** Runs go in `dir`; a failure's message keeps go's diagnostics, with paths the user can open. */
async function compile(dir: string, args: string[], cgo: boolean, log: (line: string) => void): Promise<void> {
  try {
    await runGo(args, dir, goEnv(dir, { cgo }), (line) => log(`go: ${line}`));
  } catch (err) {
    if (!(err instanceof RiffError)) throw err;
    const message = err.message
      .split("\n")
      // `go build -v` names each package it compiles: progress, not part of the error.
      .filter((line) => !/^[\w.\-~/]+$/.test(line))
      .join("\n")
      // go prints files under its working directory as ./file.go; the daemon then writes the
      // revision folder as the user's own folder.
      .replace(/(^|\s)\.\/(\S+\.go:\d+)/gm, (_m, lead: string, at: string) => `${lead}${dir}/${at}`);
    throw new RiffError(err.code, message, { hint: err.hint ?? "fix the code and run riff update (or riff create --force)", cause: err });
  }
}

/** `--handler`, else the package's only callable exported func, else riff's TitleCase default. */
function chooseHandler(fn: PreparedFunction, report: PackageReport, dir: string): string {
  const funcs = report.funcs ?? [];
  const where = (f: { file: string; line: number }) => `${join(dir, f.file)}:${f.line}`;
  const files = (report.files ?? []).map((f) => join(dir, f.name)).join(", ");
  const listed = funcs.map((f) => `${f.name} (${where(f)}${f.problem === "" ? "" : `: ${f.problem}`})`).join(", ") || "none";
  if (fn.handler !== undefined && fn.handler !== "") {
    const found = funcs.find((f) => f.name === fn.handler);
    if (found === undefined) {
      const lower = /^[a-z]/.test(fn.handler) ? `; a handler must be exported (capitalised), e.g. ${titleCase(fn.handler)}` : "";
      throw new RiffError("RIFF_INVALID_ARGUMENT", `package ${report.package} (${files}) has no exported func ${fn.handler}${lower}; it exports: ${listed}`, {
        hint: "pass --handler with one of the exported funcs, or add the func",
      });
    }
    if (found.problem !== "") throw unsupported(found.name, where(found), found.problem);
    return found.name;
  }
  const callable = funcs.filter((f) => f.problem === "");
  if (callable.length === 1 && callable[0] !== undefined) return callable[0].name;
  const named = callable.find((f) => f.name === titleCase(fn.name));
  if (named !== undefined) return named.name;
  const why = callable.length === 0 ? "exports no func riff can run" : `exports ${callable.length} funcs riff could run`;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `package ${report.package} (${files}) ${why}: ${listed}`, {
    hint: callable.length === 0 ? "export a func such as func Square(x int) int" : `pass --handler NAME, e.g. --handler ${callable[0]?.name ?? "Name"}`,
  });
}

function unsupported(name: string, at: string, problem: string): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", `${at}: func ${name} cannot be a riff function: ${problem}`, {
    hint: "a function takes one value (or none) and returns a value, an error, or both; a stream takes and returns channels (docs/invokers.md)",
  });
}

/** The module's path from go.mod; a package without one gets a go.mod of riff's. */
async function modulePath(dir: string): Promise<string> {
  const goMod = join(dir, "go.mod");
  if (!existsSync(goMod)) {
    await writeFile(goMod, `module ${DEFAULT_MODULE}\n\ngo 1.19\n`);
    return DEFAULT_MODULE;
  }
  const found = /^\s*module\s+"?([^\s"]+)"?/m.exec(readFileSync(goMod, "utf8"))?.[1];
  if (found === undefined) throw new RiffError("RIFF_INVALID_ARGUMENT", `${goMod} has no module line`, { hint: "start go.mod with `module NAME`" });
  return found;
}

/**
 * A `package main` (as riff's plugins were written) cannot be imported: its files are copied
 * into riff-fn/ under another package name. A //line comment keeps the compiler's positions,
 * and a panic's stack, on the user's own file and line.
 */
async function copyAsPackage(dir: string, files: { name: string; packageNameOffset: number }[]): Promise<void> {
  await mkdir(join(dir, COPY_DIR), { recursive: true });
  for (const f of files) {
    const text = await readFile(join(dir, f.name), "utf8");
    const bytes = Buffer.from(text, "utf8");
    const renamed = Buffer.concat([bytes.subarray(0, f.packageNameOffset), Buffer.from("riff_fn"), bytes.subarray(f.packageNameOffset + "main".length)]);
    await writeFile(join(dir, COPY_DIR, basename(f.name)), `//line ${join(dir, f.name)}:1\n${renamed.toString("utf8")}`);
  }
}

/**
 * `dir`: the revision folder the binary is built in, whose paths the compiler records; a
 * panic's stack is shown relative to it, also when a pooled stub runs the binary from another
 * folder (see the warm pool).
 */
function generatedMain(importPath: string, pkg: string, handler: string, dir: string): string {
  return `// Code generated by riff at create; DO NOT EDIT. It serves ${handler} over riff's frames.
package main

import userfn ${JSON.stringify(importPath)}

func main() {
\tuserPackage.path, userPackage.name, userPackage.dir = ${JSON.stringify(importPath)}, ${JSON.stringify(pkg)}, ${JSON.stringify(dir)}
\tserve(${JSON.stringify(handler)}, func() (any, error) { return userfn.${handler}, nil })
}
`;
}
