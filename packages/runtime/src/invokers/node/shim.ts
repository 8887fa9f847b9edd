/**
 * Runs inside every Node replica: loads the user's function, then answers INVOKE frames from the
 * daemon on fd 3 (a Unix socketpair). Kept small and free of heavy imports: its load time is
 * part of every cold start.
 */
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { encodeError, encodeFrame, FrameParser, FrameType, type Frame } from "@riff/protocol";
import { checkAccept, ContentError, decodePayload, encodeResult } from "./codec.js";

type UserFunction = ((input: unknown) => unknown) & {
  $init?: () => unknown;
  $destroy?: () => unknown;
};

/** @default 10000 ms for `$init` and `$destroy` each, as riff's node invoker allowed. */
const HOOK_TIMEOUT_MS = 10_000;

const channel = new Socket({ fd: 3, readable: true, writable: true });
let corked = false;
let inFlight = 0;
let shuttingDown = false;

function send(frame: Frame): void {
  // Replies produced in the same tick leave in one write: fewer syscalls under load.
  if (!corked) {
    corked = true;
    channel.cork();
    process.nextTick(() => {
      corked = false;
      channel.uncork();
    });
  }
  channel.write(encodeFrame(frame));
}

function errorBody(err: unknown, fallbackCode: string) {
  if (err instanceof ContentError) return { name: "ContentError", code: err.code, message: err.message };
  if (err instanceof Error) {
    const body: { name: string; code: string; message: string; stack?: string } = {
      name: err.name,
      code: fallbackCode,
      message: err.message,
    };
    if (err.stack !== undefined) body.stack = err.stack;
    return body;
  }
  return { name: "Error", code: fallbackCode, message: String(err) };
}

async function withTimeout<T>(work: () => T | Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${HOOK_TIMEOUT_MS} ms`)), HOOK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(work), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function load(): Promise<UserFunction> {
  const artifact = process.env["RIFF_FUNCTION_ARTIFACT"];
  const handler = process.env["RIFF_FUNCTION_HANDLER"] || undefined;
  if (artifact === undefined) throw new Error("RIFF_FUNCTION_ARTIFACT is not set");
  // A folder is a package: its package.json "main" (or index.js) is the function.
  const entry = statSync(artifact).isDirectory() ? createRequire(`${artifact}/`).resolve(artifact) : artifact;
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  // CommonJS arrives as `default`; an ESM module may export default or a named handler.
  const exports = (mod["default"] ?? mod) as Record<string, unknown> | UserFunction;
  let fn: unknown;
  if (handler !== undefined) fn = (mod[handler] ?? (exports as Record<string, unknown>)[handler]);
  else fn = typeof exports === "function" ? exports : (exports as Record<string, unknown>)["default"];
  if (typeof fn !== "function") {
    const what = handler === undefined ? "a default export (module.exports = fn or export default fn)" : `an export named '${handler}'`;
    throw new Error(`${artifact} does not export a function: expected ${what}`);
  }
  return fn as UserFunction;
}

async function invoke(fn: UserFunction, frame: Frame): Promise<void> {
  inFlight++;
  try {
    const contentType = frame.headers["content-type"]?.[0];
    const accept = frame.headers["accept"]?.[0];
    checkAccept(accept, contentType);
    const input = decodePayload(contentType, Buffer.from(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength));
    const result = await fn(input);
    const { type, body } = encodeResult(result, accept, contentType);
    send({ type: FrameType.REPLY, id: frame.id, headers: { "content-type": [type] }, payload: body });
  } catch (err) {
    const code = err instanceof ContentError ? err.code : "RIFF_FUNCTION_ERROR";
    send({ type: FrameType.ERROR, id: frame.id, headers: {}, payload: encodeError(errorBody(err, code)) });
  } finally {
    inFlight--;
    if (shuttingDown && inFlight === 0) void finish(fnRef);
  }
}

let fnRef: UserFunction | undefined;
let finishing = false;

async function finish(fn: UserFunction | undefined): Promise<void> {
  if (finishing) return;
  finishing = true;
  let code = 0;
  try {
    if (fn?.$destroy !== undefined) await withTimeout(() => fn.$destroy?.(), "$destroy");
  } catch (err) {
    process.stderr.write(`riff: $destroy failed: ${(err as Error).stack ?? String(err)}\n`);
    code = 2;
  }
  channel.end(() => process.exit(code));
}

async function main(): Promise<void> {
  let fn: UserFunction;
  try {
    fn = await load();
    if (fn.$init !== undefined) await withTimeout(() => fn.$init?.(), "$init");
  } catch (err) {
    const body = errorBody(err, "RIFF_FUNCTION_STARTUP_FAILED");
    channel.write(encodeFrame({ type: FrameType.INIT_FAILED, id: 0, headers: {}, payload: encodeError(body) }), () =>
      process.exit(1),
    );
    return;
  }
  fnRef = fn;
  const parser = new FrameParser();
  channel.on("data", (chunk: Buffer) => {
    for (const frame of parser.push(chunk)) {
      if (frame.type === FrameType.INVOKE) void invoke(fn, frame);
      else if (frame.type === FrameType.SHUTDOWN) {
        shuttingDown = true;
        if (inFlight === 0) void finish(fn);
      }
    }
  });
  // The daemon went away: nothing more can arrive and no reply can be delivered.
  channel.on("end", () => process.exit(0));
  channel.on("error", () => process.exit(1));
  send({ type: FrameType.READY, id: 0, headers: { "riff-shape": ["request-reply"] }, payload: new Uint8Array(0) });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    shuttingDown = true;
    if (inFlight === 0) void finish(fnRef);
  });
}

void main();
