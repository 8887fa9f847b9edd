import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chooseEntry, compiledPath, EntryProblem } from "./entry.js";

/** What a function file may attach to its function, as riff's Node invoker allowed. */
export interface UserFunction {
  (input: unknown): unknown;
  /** `payload` (default): the decoded payload; `message`: {headers, payload, timestamp}; `headers`: the headers. */
  $argumentType?: "payload" | "message" | "headers";
  /**
   * `request-reply` (default); `stream` (an async iterable in, one out; an async generator
   * function is a stream anyway); or Project riff's `node-streams`: fn(input Readable,
   * output Writable), both in object mode, the return value ignored.
   */
  $interactionModel?: "request-reply" | "stream" | "node-streams";
  /** Content type of a stream's outputs when they are not bytes or objects. @default "text/plain" */
  $defaultContentType?: string;
  $init?: () => unknown;
  $destroy?: () => unknown;
}

/** A value that sets the output's headers as well as its payload: `message(payload, headers)` in @riff/sdk. */
export const MESSAGE_BRAND = Symbol.for("riff.message");

/** A returned message, recognised by its brand so a plain `{headers, payload}` object stays data. */
export interface BrandedMessage {
  [MESSAGE_BRAND]: true;
  payload: unknown;
  headers: Record<string, string | string[]>;
}

export function isBrandedMessage(value: unknown): value is BrandedMessage {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MESSAGE_BRAND] === true;
}

/** True when the function takes a stream of inputs rather than one message at a time. */
export function isStreamFunction(fn: UserFunction): boolean {
  return fn.$interactionModel === "stream" || fn.$interactionModel === "node-streams" || Object.prototype.toString.call(fn) === "[object AsyncGeneratorFunction]";
}

/**
 * A failure riff explains itself (no such file, no function exported): the message says it all,
 * and a stack would only show the shim's own files.
 */
export class LoadError extends Error {}

/** The shim's folder: frames from it are riff's, not the user's. */
const SHIM_DIR = dirname(process.argv[1] ?? "");

/** An error's stack without the shim's frames or Node's internals: what the user's code did. */
export function userStack(err: Error): string | undefined {
  if (err instanceof LoadError) return undefined;
  const frames = err.stack?.split("\n").filter((l) => !/^\s+at /.test(l) || !(l.includes("node:internal") || (SHIM_DIR !== "." && l.includes(SHIM_DIR))));
  return frames?.join("\n");
}

/** A path for messages: relative to the revision folder (the working directory) when inside it. */
function shown(path: string): string {
  const p = path.startsWith("file://") ? fileURLToPath(path) : path;
  const rel = relative(process.cwd(), p);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : p;
}

/**
 * Node's "Cannot find module" gives a bare name and a require stack; this says which file riff
 * loaded, which of its imports is missing, and why riff's copy of the function lacks it.
 */
function notFound(err: unknown, entry: string): LoadError | undefined {
  const e = err as { code?: string; message?: string };
  if (e.code !== "MODULE_NOT_FOUND" && e.code !== "ERR_MODULE_NOT_FOUND") return undefined;
  const message = e.message ?? "";
  const missing = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1] ?? "a module";
  const from = /imported from (\S+)/.exec(message)?.[1] ?? /Require stack:\n- (.+)/.exec(message)?.[1] ?? entry;
  const importer = shown(from) === shown(entry) ? shown(entry) : `${shown(from)} (loaded by ${shown(entry)})`;
  const isPath = /^(\/|file:)/.test(missing);
  if (isPath || missing.startsWith(".")) {
    return new LoadError(
      `could not load ${shown(entry)}: ${importer} imports '${isPath ? shown(missing) : missing}', which is not in riff's copy of the function. ` +
        "riff runs a copy of the artifact: a file is copied alone, a folder whole; deploy the folder (--artifact . or a package.json) if the function is several files",
    );
  }
  return new LoadError(
    `could not load ${shown(entry)}: ${importer} imports '${missing}', which is not installed. ` +
      "riff runs a copy of the function without its node_modules: list the package in the dependencies (not devDependencies) of a package.json in the function's folder, and riff installs it",
  );
}

/**
 * `require` first: it skips the ESM loader's start-up, a good part of a cold start. Node 20.19+
 * can require ES modules too; only one with top-level await, or an older Node, needs `import()`.
 */
async function loadModule(entry: string): Promise<Record<string, unknown>> {
  const require = createRequire(entry);
  try {
    const mod = require(entry) as unknown;
    return (typeof mod === "function" ? { default: mod } : mod) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw err;
    return (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  }
}

/** The file to load: the artifact, or for a revision stored as a folder, the file chooseEntry picks. */
function entryOf(artifact: string, name: string): string {
  if (!statSync(artifact, { throwIfNoEntry: false })?.isDirectory()) return artifact;
  try {
    return compiledPath(join(artifact, chooseEntry(artifact, name).file));
  } catch (err) {
    if (err instanceof EntryProblem) throw new LoadError(`${err.message}\n${err.hint}`);
    throw err;
  }
}

/**
 * Loads the function: CommonJS (`module.exports = fn`), ESM (`export default fn`), or a named
 * export picked by the handler. A folder is resolved as `chooseEntry` says.
 */
export async function loadFunction(artifact: string, handler: string | undefined, name: string): Promise<UserFunction> {
  const entry = entryOf(artifact, name);
  if (!existsSync(entry)) throw new LoadError(`riff tried to load ${shown(entry)}, the function's file, but it does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await loadModule(entry);
  } catch (err) {
    throw notFound(err, entry) ?? err;
  }
  // CommonJS arrives as `default`; an ESM module may export default or a named handler.
  const exports = (mod["default"] ?? mod) as Record<string, unknown> | UserFunction;
  let fn: unknown;
  if (handler !== undefined) fn = mod[handler] ?? (exports as Record<string, unknown>)[handler];
  else fn = typeof exports === "function" ? exports : (exports as Record<string, unknown>)["default"];
  if (typeof fn !== "function") {
    const what = handler === undefined ? "a default export (module.exports = fn or export default fn)" : `an export named '${handler}'`;
    throw new LoadError(`${shown(entry)} does not export a function: expected ${what}`);
  }
  const typed = fn as UserFunction;
  const argumentType = typed.$argumentType ?? "payload";
  if (!["payload", "message", "headers"].includes(argumentType)) {
    throw new LoadError(`$argumentType '${String(argumentType)}' is not supported; use 'payload', 'message' or 'headers'`);
  }
  if (typed.$interactionModel !== undefined && !["request-reply", "stream", "node-streams"].includes(typed.$interactionModel)) {
    throw new LoadError(`$interactionModel '${String(typed.$interactionModel)}' is not supported; use 'request-reply', 'stream' or 'node-streams'`);
  }
  return typed;
}
