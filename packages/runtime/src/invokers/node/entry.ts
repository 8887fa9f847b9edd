/**
 * Which file of a folder artifact is a Node function. `prepare` decides once per revision, so
 * an unclear folder fails `riff create` with a message that says what to do; the shim decides
 * again only for a revision stored as a folder. Free of heavy imports: the shim bundles it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The files that can be a function, in the order a tie is broken when a name matches. */
const EXTENSIONS = [".js", ".mjs", ".cjs", ".ts"] as const;

/** The file to load, relative to the folder, and why it is that one (shown at create). */
export interface EntryChoice {
  file: string;
  why: string;
}

/** A folder riff cannot take a function from: `ambiguous` (several candidates) or `missing`. */
export class EntryProblem extends Error {
  constructor(
    readonly kind: "ambiguous" | "missing",
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

const isFile = (path: string) => statSync(path, { throwIfNoEntry: false })?.isFile() === true;

/** The folder's own function files: not declarations, dotfiles, or riff's compiled TypeScript. */
function candidates(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => EXTENSIONS.some((e) => f.endsWith(e)) && !f.endsWith(".d.ts") && !/\.riff\.[cm]js$/.test(f) && !f.startsWith("."))
    .filter((f) => isFile(join(dir, f)))
    .sort();
}

/** `main` as Node resolves it for a folder: the file, the file plus `.js`, or a folder's index.js. */
function resolveMain(dir: string, main: string): string | undefined {
  const bare = main.replace(/^\.\//, "").replace(/\/$/, "");
  return [bare, `${bare}.js`, `${bare}/index.js`].find((f) => isFile(join(dir, f)));
}

/**
 * The function's file in `dir`, in this order: package.json's `main`; without one, `index.js`
 * (Node's own default), then `<name>.js` (or .mjs, .cjs, .ts), then the folder's only
 * .js/.mjs/.cjs/.ts file. Anything else is an {@link EntryProblem}. `shownDir` is the folder as
 * the user knows it (riff works on a copy).
 */
export function chooseEntry(dir: string, name: string, shownDir: string = dir): EntryChoice {
  const pkgPath = join(dir, "package.json");
  const hasPackage = existsSync(pkgPath);
  let main: unknown;
  if (hasPackage) {
    try {
      main = (JSON.parse(readFileSync(pkgPath, "utf8")) as { main?: unknown }).main;
    } catch (err) {
      throw new EntryProblem("missing", `${join(shownDir, "package.json")} is not valid JSON: ${(err as Error).message}`, "fix package.json, then run riff update");
    }
    if (typeof main === "string" && main !== "") {
      const file = resolveMain(dir, main);
      if (file !== undefined) return { file, why: "package.json's main" };
      throw new EntryProblem(
        "missing",
        `package.json's main is '${main}', but there is no such file in ${shownDir}`,
        `fix "main" in package.json (a path relative to it), or name the file with --artifact FILE`,
      );
    }
  }
  const lead = hasPackage ? "package.json has no main" : "there is no package.json";
  const files = candidates(dir);
  if (files.includes("index.js")) return { file: "index.js", why: `${lead}; index.js is Node's default` };
  const named = EXTENSIONS.map((e) => `${name}${e}`).find((f) => files.includes(f));
  if (named !== undefined) return { file: named, why: `${lead} and no index.js; ${named} is named after the function` };
  if (files.length === 1) {
    const only = files[0] as string;
    return { file: only, why: `${lead} and no index.js or ${name}.js; ${only} is the folder's only .js, .mjs, .cjs or .ts file` };
  }
  const fix = `add "main": "FILE" to package.json, or run riff create again with --artifact FILE --force (--force rewrites the YAML the first run wrote); in YAML, set spec.artifact`;
  if (files.length === 0) {
    throw new EntryProblem("missing", `no file in ${shownDir} can be the function '${name}': ${lead}, and there is no .js, .mjs, .cjs or .ts file`, `write it as ${name}.js there, or ${fix}`);
  }
  throw new EntryProblem(
    "ambiguous",
    `riff cannot tell which file in ${shownDir} is the function '${name}': ${lead}, there is no index.js or ${name}.js, and ${files.length} files could be it: ${files.join(", ")}`,
    fix,
  );
}

/** Where a TypeScript function's compiled file is: next to it, `.mjs` for ESM or `.cjs`. */
export function compiledPath(artifact: string): string {
  if (!artifact.endsWith(".ts")) return artifact;
  const base = artifact.slice(0, -3);
  return existsSync(`${base}.riff.mjs`) ? `${base}.riff.mjs` : `${base}.riff.cjs`;
}
