import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFrame, FrameParser, FrameType, type Frame } from "@riff/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const enc = new TextEncoder();

/** Runs the Go driver with `input` on stdin. */
function run(bin: string, input: Uint8Array, args: string[] = []): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr: stderr.toString() });
    });
    // The driver may exit before it reads all of its input (the "example" mode reads none, and a
    // protocol error ends it), so a write into its closed pipe is expected; anything else is not.
    child.stdin?.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
    child.stdin?.end(input);
  });
}

function plain(frames: Frame[]): unknown[] {
  return frames.map((f) => ({ ...f, headers: { ...f.headers }, payload: Array.from(f.payload) }));
}

// riff's Go codec (riffgo/frames.go) against @riff/protocol: frames TypeScript encodes, Go
// decodes and encodes again, and TypeScript parses back to the same frames.
describe("the Go frame codec", () => {
  let dir: string;
  let bin: string;

  beforeAll(() => {
    try {
      execFileSync("go", ["version"]);
    } catch (err) {
      throw new Error(`this test needs the Go toolchain: 'go version' failed (${String(err)}); install golang`);
    }
    dir = mkdtempSync(join(tmpdir(), "riff-go-frames-"));
    copyFileSync(join(HERE, "riffgo", "frames.go"), join(dir, "frames.go"));
    // The driver is marked `ignore` so no function build ever picks it up; here it is the main.
    const driver = readFileSync(join(HERE, "testdata", "echo_frames.go"), "utf8");
    writeFileSync(join(dir, "main.go"), driver.replace("//go:build ignore\n", ""));
    writeFileSync(join(dir, "go.mod"), "module echo\n\ngo 1.19\n");
    bin = join(dir, "echo");
    execFileSync("go", ["build", "-o", bin, "."], { cwd: dir, env: { ...process.env, GOPROXY: "off", GOFLAGS: "", CGO_ENABLED: "0" } });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("round-trips every frame type, multi-valued and unicode headers, and large payloads", async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 0xff);
    const frames: Frame[] = [
      ...Object.values(FrameType).map((type, i) => ({ type, id: i, headers: {}, payload: new Uint8Array(0) })),
      { type: FrameType.INVOKE, id: 0xffff_ffff, headers: { "content-type": ["text/plain"] }, payload: enc.encode("hello") },
      { type: FrameType.REPLY, id: 42, headers: { "set-thing": ["a", "b", "c"], "x-greeting": ["héllo ✓ 日本語 😀"], "x-empty": [""] }, payload: enc.encode('{"ok":true}') },
      { type: FrameType.STREAM_INPUT, id: 9, headers: {}, payload: big },
      { type: 200, id: 3, headers: {}, payload: new Uint8Array([1, 2, 3]) },
    ];
    const input = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const r = await run(bin, input);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    // Byte for byte what TypeScript wrote, and parsed back to the same frames.
    expect(Buffer.compare(r.stdout, input)).toBe(0);
    expect(plain(new FrameParser().push(r.stdout))).toEqual(plain(frames));
  });

  it("writes docs/protocol.md's example INVOKE byte for byte", async () => {
    const r = await run(bin, new Uint8Array(0), ["example"]);
    const expected = encodeFrame({ type: FrameType.INVOKE, id: 7, headers: { "content-type": ["text/plain"] }, payload: enc.encode("hi") });
    expect(r.stdout.toString("hex")).toBe(Buffer.from(expected).toString("hex"));
  });

  it("lower-cases header names, as the TypeScript parser does", async () => {
    const input = encodeFrame({ type: FrameType.INVOKE, id: 1, headers: { "Content-Type": ["text/plain"] }, payload: new Uint8Array(0) });
    const [frame] = new FrameParser().push((await run(bin, input)).stdout);
    expect({ ...frame?.headers }).toEqual({ "content-type": ["text/plain"] });
  });

  it("refuses a length below the minimum, a header past its frame, and a frame over the limit", async () => {
    const short = Buffer.from([0, 0, 0, 6, 3, 0, 0, 0, 1, 0]);
    const overrun = Buffer.from([0, 0, 0, 9, 3, 0, 0, 0, 1, 0, 1, 0, 5]);
    const huge = Buffer.from([0x04, 0x00, 0x00, 0x01, 3]);
    const outcomes = await Promise.all([short, overrun, huge].map((b) => run(bin, b)));
    expect(outcomes.map((o) => [o.code, /riff protocol error/.test(o.stderr)])).toEqual([[1, true], [1, true], [1, true]]);
    expect(outcomes[2]?.stderr).toContain("exceeds the limit of 67108864 bytes");
  });
});
