/**
 * Runs inside every Node replica: loads the user's function, then answers frames from the
 * daemon on fd 3 (a Unix socketpair). Kept small and free of heavy imports: its load time is
 * part of every cold start.
 */
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeError, FrameParser, FrameType, type Frame } from "@riff/protocol";
import { frameBytes } from "../../frame-bytes.js";
import { checkAccept, ContentError } from "./codec.js";
import { idleTrimmer } from "./idle-trim.js";
import { isStreamFunction, loadFunction, userStack, type UserFunction } from "./function-module.js";
import { argumentFor, replyFor } from "./message-shape.js";
import { StreamSessions } from "./stream.js";

/** @default 10000 ms for `$init` and `$destroy` each, as riff's node invoker allowed. */
const HOOK_TIMEOUT_MS = 10_000;

const channel = new Socket({ fd: 3, readable: true, writable: true });
let corked = false;
let inFlight = 0;
let shuttingDown = false;
let finishing = false;
let fnRef: UserFunction | undefined;
let streams: StreamSessions | undefined;
/** The tail of each serial key's chain: messages with one key run one after another, in order. */
const chains = new Map<string, Promise<void>>();

function send(frame: Frame): void {
  // Frames produced in the same tick leave in one write: fewer syscalls under load.
  if (!corked) {
    corked = true;
    channel.cork();
    process.nextTick(() => {
      corked = false;
      channel.uncork();
    });
  }
  channel.write(frameBytes(frame));
}

function errorBody(err: unknown, fallbackCode: string) {
  if (err instanceof ContentError) return { name: "ContentError", code: err.code, message: err.message };
  if (err instanceof Error) {
    // A subclass that sets no name of its own is known by its class: `class NonRetriableError extends Error {}`.
    const name = err.name === "Error" && err.constructor.name !== "" ? err.constructor.name : err.name;
    const body: { name: string; code: string; message: string; stack?: string } = { name, code: fallbackCode, message: err.message };
    const stack = userStack(err);
    if (stack !== undefined) body.stack = stack;
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

async function invoke(fn: UserFunction, frame: Frame): Promise<void> {
  try {
    const contentType = frame.headers["content-type"]?.[0];
    const accept = frame.headers["accept"]?.[0];
    checkAccept(accept, contentType);
    const result = await fn(argumentFor(fn, frame.headers, frame.payload));
    const reply = replyFor(result, accept, contentType);
    send({ type: FrameType.REPLY, id: frame.id, headers: reply.headers, payload: reply.payload });
  } catch (err) {
    const code = err instanceof ContentError ? err.code : "RIFF_FUNCTION_ERROR";
    send({ type: FrameType.ERROR, id: frame.id, headers: {}, payload: encodeError(errorBody(err, code)) });
  }
}

function onInvoke(fn: UserFunction, frame: Frame): void {
  inFlight++;
  const done = () => {
    inFlight--;
    if (shuttingDown && inFlight === 0) void finish();
  };
  const key = frame.headers["riff-serial-key"]?.[0];
  if (key === undefined) {
    void invoke(fn, frame).finally(done);
    return;
  }
  const tail = (chains.get(key) ?? Promise.resolve()).then(() => invoke(fn, frame)).finally(done);
  chains.set(key, tail);
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
}

async function finish(): Promise<void> {
  if (finishing || (streams?.active ?? 0) > 0) return;
  finishing = true;
  let code = 0;
  try {
    if (fnRef?.$destroy !== undefined) await withTimeout(() => fnRef?.$destroy?.(), "$destroy");
  } catch (err) {
    process.stderr.write(`riff: $destroy failed: ${(err as Error).stack ?? String(err)}\n`);
    code = 2;
  }
  channel.end(() => process.exit(code));
}

function shutdown(): void {
  shuttingDown = true;
  streams?.endAll();
  if (inFlight === 0) void finish();
}

/**
 * Loads a function of its own, while nobody waits, so that the first real one finds Node's
 * module loader warm (resolving, reading the package scope, compiling): a file in the private
 * /tmp, deleted again, and forgotten by the require cache.
 */
async function warmUp(): Promise<void> {
  const file = join(tmpdir(), `riff-warm-up-${process.pid}.cjs`);
  try {
    writeFileSync(file, "module.exports = (x) => x;\n");
    (await loadFunction(file, undefined, "warm-up"))(JSON.parse('{"warm":"up"}'));
    delete createRequire(file).cache[file];
  } catch {
    // Only slower: the first function pays for the loader.
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * A warm-pool replica starts without a function: it reports READY with `riff-pool: ready` and
 * waits for LOAD, which gives it the working directory and environment a fresh replica of the
 * function would have had. Only then does it load the function, as below.
 */
async function waitForLoad(): Promise<void> {
  await warmUp();
  send({ type: FrameType.READY, id: 0, headers: { "riff-pool": ["ready"] }, payload: new Uint8Array(0) });
  const parser = new FrameParser();
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const frame of parser.push(chunk)) {
        if (frame.type !== FrameType.LOAD) continue;
        channel.off("data", onData);
        const env = JSON.parse(Buffer.from(frame.payload).toString("utf8")) as Record<string, string>;
        for (const k of Object.keys(process.env)) delete process.env[k];
        Object.assign(process.env, env);
        process.chdir(frame.headers["riff-dir"]?.[0] ?? process.cwd());
        resolve();
      }
    };
    channel.on("data", onData);
    channel.on("end", () => process.exit(0));
  });
}

async function main(): Promise<void> {
  let fn: UserFunction;
  if (process.env["RIFF_POOL"] === "1") await waitForLoad();
  try {
    const env = process.env;
    fn = await loadFunction(env["RIFF_FUNCTION_ARTIFACT"] ?? "", env["RIFF_FUNCTION_HANDLER"] || undefined, env["RIFF_FUNCTION_NAME"] ?? "");
    if (fn.$init !== undefined) await withTimeout(() => fn.$init?.(), "$init");
  } catch (err) {
    const body = errorBody(err, "RIFF_FUNCTION_STARTUP_FAILED");
    channel.write(frameBytes({ type: FrameType.INIT_FAILED, id: 0, headers: {}, payload: encodeError(body) }), () => process.exit(1));
    return;
  }
  fnRef = fn;
  const stream = isStreamFunction(fn);
  if (stream) streams = new StreamSessions(fn, send, () => shuttingDown && inFlight === 0 && void finish());
  const parser = new FrameParser();
  const trim = idleTrimmer(() => inFlight > 0);
  channel.on("data", (chunk: Buffer) => {
    trim.activity();
    for (const frame of parser.push(chunk)) {
      if (frame.type === FrameType.INVOKE) onInvoke(fn, frame);
      else if (frame.type === FrameType.SHUTDOWN) shutdown();
      else streams?.handle(frame);
    }
  });
  // The daemon went away: nothing more can arrive and no reply can be delivered.
  channel.on("end", () => process.exit(0));
  channel.on("error", () => process.exit(1));
  send({ type: FrameType.READY, id: 0, headers: { "riff-shape": [stream ? "stream" : "request-reply"] }, payload: new Uint8Array(0) });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, shutdown);
// A function that calls process.exit must not take the replies already made with it: flush
// the corked writes (libuv writes to a socket at once when nothing is queued).
process.on("exit", () => {
  if (corked) channel.uncork();
});

void main();
