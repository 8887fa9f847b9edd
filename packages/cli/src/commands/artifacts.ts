import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { unknownInvoker } from "@riff/core";
import type { DaemonClient } from "../client.js";
import { badArgument } from "../output.js";

/**
 * The patterns of the built-in invokers, for `riff init` when no daemon runs to ask: riff's
 * init worked without a cluster, and writing YAML needs none. The daemon's list wins when it runs.
 */
const BUILTIN_MATCHERS: Record<string, string[]> = {
  node: ["package.json", "*.js", "*.mjs", "*.cjs", "*.ts"],
  python3: ["requirements.txt", "*.py"],
  java: ["*.jar", "*.java", "pom.xml", "build.gradle", "build.gradle.kts"],
  go: ["go.mod", "*.go", "*.so"],
  command: ["*"],
  "command-lines": ["*"],
};

/** The invoker's artifact patterns: from the daemon, else (no daemon, for `riff init`) the built-in ones. */
/** Whether `invoker` is one of riff's built-in invokers (known without asking a daemon). */
export function isBuiltinInvoker(invoker: string): boolean {
  return Object.hasOwn(BUILTIN_MATCHERS, invoker);
}

export async function invokerMatchers(client: DaemonClient | undefined, invoker: string): Promise<string[]> {
  if (client === undefined) return BUILTIN_MATCHERS[invoker] ?? ["*"];
  const { invokers } = await client.call<{ invokers: { name: string; matchers: string[] }[] }>("GET", "invokers");
  const found = invokers.find((i) => i.name === invoker);
  if (found === undefined) {
    throw unknownInvoker(invoker, invokers.map((i) => i.name));
  }
  return found.matchers;
}

/** Files that make their folder the artifact when an invoker's matchers name them: a package. */
export const FOLDER_MARKERS = ["package.json", "go.mod", "requirements.txt", "pom.xml", "build.gradle", "build.gradle.kts"];

/**
 * Finds the artifact by the invoker's matchers. A package.json (for node) or a go.mod (for go)
 * makes the folder the artifact: the invoker then picks what to run in it. Else a file named
 * after the function wins, then the only file of the first matcher that has one.
 */
export function detectArtifact(dir: string, name: string, matchers: string[]): string {
  const files = readdirSync(dir).filter((f) => !/\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile());
  if (FOLDER_MARKERS.some((m) => matchers.includes(m) && files.includes(m))) return ".";
  const matching = (m: string) => files.filter((f) => (m.startsWith("*.") ? extname(f) === m.slice(1) : f === m || m === "*"));
  const patterns = matchers.filter((m) => !FOLDER_MARKERS.includes(m));
  const named = patterns.flatMap(matching).find((f) => basename(f, extname(f)) === name);
  if (named !== undefined) return withDependencies(dir, named);
  for (const m of patterns) {
    const hits = matching(m);
    if (hits.length === 1) return withDependencies(dir, hits[0] as string);
    if (hits.length > 1) {
      const main = matchers.includes("package.json") ? ', or add a package.json whose "main" names it' : "";
      const rename = m.startsWith("*.") ? `name it ${name}${m.slice(1)}` : "name it after the function";
      throw badArgument(`several files in ${dir} could be the function '${name}': ${hits.join(", ")}`, `pick one with --artifact FILE, or ${rename}${main}`);
    }
  }
  // Sources in package folders (Java's `functions/Upper.java`, `src/main/java/...`): the
  // folder is the artifact, and the invoker finds its way in it.
  const extensions = patterns.filter((m) => m.startsWith("*.")).map((m) => m.slice(1));
  if (extensions.length > 0 && hasNested(dir, extensions, 4)) return ".";
  throw badArgument(`no file in ${dir} matches ${matchers.join(", ")}`, "write the function there, or pass --artifact FILE");
}

/** Folders a jar's dependency jars sit in beside it (`lib/`, Maven's `dependency/`). */
const DEPENDENCY_FOLDERS = ["lib", "libs", "dependency"];

/** A jar with its dependency jars in a folder beside it deploys the folder, so they are copied too; else the file. */
function withDependencies(dir: string, file: string): string {
  if (extname(file) !== ".jar") return file;
  const deps = DEPENDENCY_FOLDERS.some((d) => existsSync(join(dir, d)) && readdirSync(join(dir, d)).some((f) => extname(f) === ".jar"));
  return deps ? "." : file;
}

/** Whether a subfolder of `dir` (down to `depth` levels, outside .git and node_modules) holds a file with one of `extensions`. */
function hasNested(dir: string, extensions: string[], depth: number): boolean {
  if (depth === 0) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) => {
    if (!e.isDirectory() || e.name === ".git" || e.name === "node_modules") return false;
    const sub = join(dir, e.name);
    return readdirSync(sub).some((f) => extensions.includes(extname(f)) && statSync(join(sub, f)).isFile()) || hasNested(sub, extensions, depth - 1);
  });
}


