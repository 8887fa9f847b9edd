import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/** What a function file may attach to its function, as riff's Node invoker allowed. */
export interface UserFunction {
  (input: unknown): unknown;
  /** `payload` (default): the decoded payload; `message`: {headers, payload, timestamp}; `headers`: the headers. */
  $argumentType?: "payload" | "message" | "headers";
  /** `request-reply` (default) or `stream`; an async generator function is a stream anyway. */
  $interactionModel?: "request-reply" | "stream";
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
  return fn.$interactionModel === "stream" || Object.prototype.toString.call(fn) === "[object AsyncGeneratorFunction]";
}

/**
 * `require` first: it skips the ESM loader's start-up, a good part of a cold start. Node 20.19+
 * can require ES modules too; only one with top-level await, or an older Node, needs `import()`.
 */
async function loadModule(require: NodeJS.Require, entry: string): Promise<Record<string, unknown>> {
  try {
    const mod = require(entry) as unknown;
    return (typeof mod === "function" ? { default: mod } : mod) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "ERR_REQUIRE_ESM" && code !== "ERR_REQUIRE_ASYNC_MODULE") throw err;
    return (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  }
}

/**
 * Loads the function: CommonJS (`module.exports = fn`), ESM (`export default fn`), or a named
 * export picked by the handler. A folder is a package: its package.json `main` (or index.js).
 */
export async function loadFunction(artifact: string, handler: string | undefined): Promise<UserFunction> {
  const require = createRequire(`${artifact}/`);
  const entry = statSync(artifact).isDirectory() ? require.resolve(artifact) : artifact;
  const mod = await loadModule(require, entry);
  // CommonJS arrives as `default`; an ESM module may export default or a named handler.
  const exports = (mod["default"] ?? mod) as Record<string, unknown> | UserFunction;
  let fn: unknown;
  if (handler !== undefined) fn = mod[handler] ?? (exports as Record<string, unknown>)[handler];
  else fn = typeof exports === "function" ? exports : (exports as Record<string, unknown>)["default"];
  if (typeof fn !== "function") {
    const what = handler === undefined ? "a default export (module.exports = fn or export default fn)" : `an export named '${handler}'`;
    throw new Error(`${artifact} does not export a function: expected ${what}`);
  }
  const typed = fn as UserFunction;
  const argumentType = typed.$argumentType ?? "payload";
  if (!["payload", "message", "headers"].includes(argumentType)) {
    throw new Error(`$argumentType '${String(argumentType)}' is not supported; use 'payload', 'message' or 'headers'`);
  }
  if (typed.$interactionModel !== undefined && !["request-reply", "stream"].includes(typed.$interactionModel)) {
    throw new Error(`$interactionModel '${String(typed.$interactionModel)}' is not supported; use 'request-reply' or 'stream'`);
  }
  return typed;
}
