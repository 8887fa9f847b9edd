import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { decodeError, encodeFrame, FrameParser, FrameType, type Frame } from "@riff/protocol";
import type { Headers } from "@riff/core";

// The Python shim on its own: spawned as the invoker spawns it, spoken to in frames through
// @riff/protocol on fd 3. Covers what the daemon does not drive yet (streams) and the exact bytes.
const SHIM_DIR = resolve(import.meta.dirname, "../packages/runtime/src/invokers/python");

/** A shim running `source`, with a queue of the frames it sent. */
class ShimUnderTest {
  readonly child: ChildProcess;
  readonly channel: Socket;
  readonly frames: Frame[] = [];
  readonly raw: Buffer[] = [];
  private waiters: (() => void)[] = [];
  readonly dir: string;

  constructor(source: string, handler?: string) {
    this.dir = mkdtempSync(join(tmpdir(), "riff-pyshim-"));
    writeFileSync(join(this.dir, "fn.py"), source);
    const env: Record<string, string> = { PATH: process.env["PATH"] ?? "", RIFF_FUNCTION_ARTIFACT: join(this.dir, "fn.py") };
    if (handler !== undefined) env["RIFF_FUNCTION_HANDLER"] = handler;
    this.child = spawn("python3", ["-S", "-c", `import sys; sys.path.insert(0, ${JSON.stringify(SHIM_DIR)}); import _riff_shim; _riff_shim.main()`], {
      cwd: this.dir,
      env,
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    });
    this.channel = this.child.stdio[3] as Socket;
    const parser = new FrameParser();
    this.channel.on("data", (chunk: Buffer) => {
      this.raw.push(Buffer.from(chunk));
      for (const f of parser.push(Buffer.from(chunk))) this.frames.push(f);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(type: number, id: number, headers: Headers = {}, payload: string | Uint8Array = ""): void {
    const bytes = typeof payload === "string" ? Buffer.from(payload) : payload;
    this.channel.write(encodeFrame({ type, id, headers, payload: bytes }));
  }

  /** Waits until `count` frames have arrived (event-driven: wakes on each chunk). */
  async next(count: number): Promise<Frame[]> {
    while (this.frames.length < count) await new Promise<void>((r) => this.waiters.push(r));
    return this.frames.slice(0, count);
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGKILL");
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const text = (f: Frame | undefined) => Buffer.from(f?.payload ?? []).toString("utf8");

describe("the Python shim", () => {
  const shims: ShimUnderTest[] = [];
  const start = (source: string, handler?: string) => {
    const s = new ShimUnderTest(source, handler);
    shims.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(shims.splice(0).map((s) => s.dispose()));
  });

  it("answers the INVOKE of docs/protocol.md with exactly the REPLY bytes given there", async () => {
    const shim = start("def fn(x):\n    return x.upper()\n");
    const [ready] = await shim.next(1);
    expect(ready).toMatchObject({ type: FrameType.READY, id: 0, headers: { "riff-shape": ["request-reply"] } });
    shim.raw.length = 0;
    shim.send(FrameType.INVOKE, 7, { "content-type": ["text/plain"] }, "hi");
    await shim.next(2);
    const hex = "00000025 04 00000007 0001 000c 636f6e74656e742d74797065 0000000a 746578742f706c61696e 4849";
    expect(Buffer.concat(shim.raw).toString("hex")).toBe(hex.replaceAll(" ", ""));
  });

  it("holds several messages in flight at once", async () => {
    // Each call waits at a barrier for the other: a shim that ran one at a time would never answer.
    const shim = start("import threading\nb = threading.Barrier(2)\ndef fn(x):\n    b.wait()\n    return x\n");
    await shim.next(1);
    shim.send(FrameType.INVOKE, 1, {}, "a");
    shim.send(FrameType.INVOKE, 2, {}, "b");
    const replies = (await shim.next(3)).slice(1);
    expect(replies.map((f) => [f.type, f.id, text(f)]).sort()).toEqual([
      [FrameType.REPLY, 1, "a"],
      [FrameType.REPLY, 2, "b"],
    ]);
  });

  it("a generator is a stream: READY says so, outputs follow inputs, STREAM_END closes each side", async () => {
    const shim = start("def fn(words):\n    for w in words:\n        yield w.upper()\n");
    const [ready] = await shim.next(1);
    expect(ready?.headers["riff-shape"]).toEqual(["stream"]);
    shim.send(FrameType.STREAM_OPEN, 5, { "content-type": ["text/plain"] });
    shim.send(FrameType.STREAM_INPUT, 5, {}, "one");
    const [, first] = await shim.next(2);
    expect(first).toMatchObject({ type: FrameType.STREAM_OUTPUT, id: 5, headers: { "content-type": ["text/plain"] } });
    expect(text(first)).toBe("ONE");
    shim.send(FrameType.STREAM_INPUT, 5, { "content-type": ["application/json"] }, '"two"');
    shim.send(FrameType.STREAM_END, 5);
    const rest = (await shim.next(4)).slice(2);
    expect(rest.map((f) => [f.type, f.id, text(f)])).toEqual([
      [FrameType.STREAM_OUTPUT, 5, "TWO"],
      [FrameType.STREAM_END, 5, ""],
    ]);
  });

  it("streams interleave by id, and async generators stream too", async () => {
    const shim = start("async def fn(items):\n    async for x in items:\n        yield {'n': x['n'] * 2}\n");
    await shim.next(1);
    shim.send(FrameType.STREAM_OPEN, 1, { "content-type": ["application/json"] });
    shim.send(FrameType.STREAM_OPEN, 2, { "content-type": ["application/json"] });
    shim.send(FrameType.STREAM_INPUT, 2, {}, '{"n":20}');
    shim.send(FrameType.STREAM_INPUT, 1, {}, '{"n":10}');
    shim.send(FrameType.STREAM_END, 1);
    shim.send(FrameType.STREAM_END, 2);
    const frames = (await shim.next(5)).slice(1);
    const byId = (id: number) => frames.filter((f) => f.id === id).map((f) => [f.type, text(f)]);
    expect(byId(1)).toEqual([[FrameType.STREAM_OUTPUT, '{"n":20}'], [FrameType.STREAM_END, ""]]);
    expect(byId(2)).toEqual([[FrameType.STREAM_OUTPUT, '{"n":40}'], [FrameType.STREAM_END, ""]]);
    expect(frames.find((f) => f.type === FrameType.STREAM_OUTPUT)?.headers["content-type"]).toEqual(["application/json"]);
  });

  it("a zero-argument generator is a source: it produces without inputs", async () => {
    const shim = start("def fn():\n    yield 'a'\n    yield 'b'\n");
    await shim.next(1);
    shim.send(FrameType.STREAM_OPEN, 3);
    const frames = (await shim.next(4)).slice(1);
    expect(frames.map((f) => [f.type, text(f)])).toEqual([
      [FrameType.STREAM_OUTPUT, "a"],
      [FrameType.STREAM_OUTPUT, "b"],
      [FrameType.STREAM_END, ""],
    ]);
  });

  it("an exception in a stream is an ERROR on its id; later inputs are ignored and the shim keeps serving", async () => {
    const shim = start("def fn(xs):\n    for x in xs:\n        raise RuntimeError('bad ' + x)\n        yield x\n");
    await shim.next(1);
    shim.send(FrameType.STREAM_OPEN, 9);
    shim.send(FrameType.STREAM_INPUT, 9, {}, "x");
    const [, err] = await shim.next(2);
    expect(err).toMatchObject({ type: FrameType.ERROR, id: 9 });
    expect(decodeError(err?.payload ?? new Uint8Array())).toMatchObject({ code: "RIFF_FUNCTION_ERROR", name: "RuntimeError", message: "bad x" });
    shim.send(FrameType.STREAM_INPUT, 9, {}, "late");
    shim.send(FrameType.STREAM_OPEN, 10);
    shim.send(FrameType.STREAM_INPUT, 10, {}, "y");
    const [, , again] = await shim.next(3);
    expect(again).toMatchObject({ type: FrameType.ERROR, id: 10 });
  });

  it("an unsupported input type in a stream is an ERROR with RIFF_CONTENT_TYPE_UNSUPPORTED", async () => {
    const shim = start("def fn(xs):\n    for x in xs:\n        yield x\n");
    await shim.next(1);
    shim.send(FrameType.STREAM_OPEN, 4);
    shim.send(FrameType.STREAM_INPUT, 4, { "content-type": ["application/xml"] }, "<a/>");
    const [, err] = await shim.next(2);
    expect(decodeError(err?.payload ?? new Uint8Array()).code).toBe("RIFF_CONTENT_TYPE_UNSUPPORTED");
  });

  it("on SHUTDOWN it finishes what it holds, then exits 0", async () => {
    const shim = start("import threading\ngo = threading.Event()\ndef fn(x):\n    if x == 'wait':\n        go.wait()\n    else:\n        go.set()\n    return x\n");
    await shim.next(1);
    const exited = new Promise<number | null>((r) => shim.child.once("exit", r));
    shim.send(FrameType.INVOKE, 1, {}, "wait");
    shim.send(FrameType.INVOKE, 2, {}, "go");
    shim.send(FrameType.SHUTDOWN, 0);
    expect(await exited).toBe(0);
    expect(shim.frames.filter((f) => f.type === FrameType.REPLY).map((f) => f.id).sort()).toEqual([1, 2]);
  });

  it("a missing handler is INIT_FAILED with RIFF_FUNCTION_STARTUP_FAILED, then exit 1", async () => {
    const shim = start("def other(x):\n    return x\n");
    const exited = new Promise<number | null>((r) => shim.child.once("exit", r));
    const [failed] = await shim.next(1);
    expect(failed?.type).toBe(FrameType.INIT_FAILED);
    expect(decodeError(failed?.payload ?? new Uint8Array())).toMatchObject({ code: "RIFF_FUNCTION_STARTUP_FAILED", name: "LookupError" });
    expect(await exited).toBe(1);
  });
});
