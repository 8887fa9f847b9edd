import { RiffError } from "@riff/core";
import { describe, expect, it } from "vitest";
import { FrameParser, FrameType, encodeFrame, type Frame } from "./index.js";

const enc = new TextEncoder();

/** A deterministic PRNG, so a failing split can be reproduced. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function sampleFrames(): Frame[] {
  return [
    { type: FrameType.READY, id: 0, headers: { "riff-shape": ["stream"] }, payload: new Uint8Array(0) },
    { type: FrameType.INVOKE, id: 1, headers: { "content-type": ["text/plain"] }, payload: enc.encode("hello") },
    { type: FrameType.INVOKE, id: 2, headers: {}, payload: new Uint8Array(3000).fill(7) },
    { type: FrameType.REPLY, id: 1, headers: { a: ["1", "2"], "x-ü": ["✓"] }, payload: enc.encode("HELLO") },
    { type: FrameType.STREAM_END, id: 9, headers: {}, payload: new Uint8Array(0) },
    { type: 200, id: 3, headers: {}, payload: new Uint8Array([1, 2, 3]) },
  ];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function plain(frames: Frame[]): unknown[] {
  return frames.map((f) => ({ ...f, headers: { ...f.headers }, payload: Array.from(f.payload) }));
}

/** Feeds `bytes` in pieces cut at `cuts` (copied, so the parser never sees the original buffer). */
function feed(parser: FrameParser, bytes: Uint8Array, sizes: () => number): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; ) {
    const n = Math.max(1, Math.min(sizes(), bytes.length - i));
    out.push(...parser.push(bytes.slice(i, i + n)));
    i += n;
  }
  return out;
}

describe("FrameParser", () => {
  const frames = sampleFrames();
  const bytes = concat(frames.map(encodeFrame));

  it("parses many frames concatenated in one chunk", () => {
    const parser = new FrameParser();
    expect(plain(parser.push(bytes))).toEqual(plain(frames));
    expect(parser.buffered).toBe(0);
  });

  it("parses the same frames fed one byte at a time", () => {
    const parser = new FrameParser();
    const sizes = frames.map((f) => encodeFrame(f).length);
    const out: Frame[] = [];
    for (let i = 0; i < bytes.length; i++) {
      out.push(...parser.push(bytes.subarray(i, i + 1)));
      const returned = sizes.slice(0, out.length).reduce((n, s) => n + s, 0);
      expect(parser.buffered).toBe(i + 1 - returned);
    }
    expect(plain(out)).toEqual(plain(frames));
    expect(parser.buffered).toBe(0);
  });

  it("parses the same frames in random splits", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed);
      const max = 1 + Math.floor(rand() * 64) * (seed % 3 === 0 ? 100 : 1);
      const parser = new FrameParser();
      const out = feed(parser, bytes, () => 1 + Math.floor(rand() * max));
      expect(plain(out), `seed ${seed}`).toEqual(plain(frames));
      expect(parser.buffered).toBe(0);
    }
  });

  it("counts buffered bytes of an incomplete frame", () => {
    const one = encodeFrame(frames[1] as Frame);
    const parser = new FrameParser();
    expect(parser.push(one.subarray(0, 2))).toEqual([]);
    expect(parser.buffered).toBe(2);
    expect(parser.push(one.subarray(2, 10))).toEqual([]);
    expect(parser.buffered).toBe(10);
    expect(parser.push(one.subarray(10))).toHaveLength(1);
    expect(parser.buffered).toBe(0);
  });

  it("returns payloads that later pushes do not overwrite", () => {
    const a = encodeFrame({ type: 8, id: 1, headers: {}, payload: new Uint8Array(100).fill(1) });
    const b = encodeFrame({ type: 8, id: 1, headers: {}, payload: new Uint8Array(100).fill(2) });
    const parser = new FrameParser();
    const scratch = new Uint8Array(60);
    const got: Frame[] = [];
    // Re-use one scratch buffer per push, as a reader with a fixed buffer would, for frames that
    // span chunks: those must be copied out.
    for (const bytes of [a, b]) {
      for (let i = 0; i < bytes.length; i += 60) {
        const piece = bytes.subarray(i, i + 60);
        scratch.set(piece);
        got.push(...parser.push(scratch.subarray(0, piece.length)));
      }
    }
    expect(got.map((f) => f.payload.every((x) => x === f.payload[0]))).toEqual([true, true]);
    expect(got.map((f) => f.payload[0])).toEqual([1, 2]);
  });

  it("passes unknown frame types through", () => {
    const [frame] = new FrameParser().push(encodeFrame({ type: 99, id: 5, headers: {}, payload: enc.encode("?") }));
    expect(frame?.type).toBe(99);
    expect(frame?.id).toBe(5);
  });

  it("lower-cases header names a sloppy peer sent in upper case", () => {
    const [frame] = new FrameParser().push(
      encodeFrame({ type: 4, id: 1, headers: { "Content-Type": ["a/b"], "content-type": ["c/d"] }, payload: new Uint8Array(0) }),
    );
    expect({ ...frame?.headers }).toEqual({ "content-type": ["a/b", "c/d"] });
  });

  it("decodes each name right when more names than the name cache holds come and come again", () => {
    // 1,000 names share 256 slots: every slot is taken, replaced and looked up again.
    const headers: Frame["headers"] = {};
    for (let i = 0; i < 1000; i++) headers[`x-name-${i}`] = [String(i)];
    headers["X-Upper"] = ["u"];
    const frame = encodeFrame({ type: 4, id: 1, headers, payload: new Uint8Array(0) });
    const expected = { ...headers, "x-upper": ["u"] };
    delete expected["X-Upper"];
    for (let round = 0; round < 3; round++) {
      const [parsed] = new FrameParser().push(frame);
      expect({ ...parsed?.headers }).toEqual(expected);
    }
  });

  it("keeps a __proto__ header as data", () => {
    const [frame] = new FrameParser().push(
      encodeFrame({ type: 4, id: 1, headers: JSON.parse('{"__proto__":["x"]}') as Frame["headers"], payload: new Uint8Array(0) }),
    );
    expect(frame?.headers["__proto__"]).toEqual(["x"]);
    expect(({} as Record<string, unknown>)["x"]).toBeUndefined();
  });

  describe("maximum frame length", () => {
    const frame = encodeFrame({ type: 3, id: 1, headers: {}, payload: new Uint8Array(100) });

    it("accepts a frame exactly at the limit and rejects one over it", () => {
      expect(new FrameParser({ maxFrameBytes: 107 }).push(frame)).toHaveLength(1);
      expect(() => new FrameParser({ maxFrameBytes: 106 }).push(frame)).toThrow(/maximum is 106/);
    });

    it("rejects on the declared length alone, before the body arrives", () => {
      const parser = new FrameParser({ maxFrameBytes: 50 });
      expect(parser.push(frame.subarray(0, 2))).toEqual([]);
      let caught: unknown;
      try {
        parser.push(frame.subarray(2, 4));
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(RiffError);
      expect((caught as RiffError).code).toBe("RIFF_PROTOCOL_ERROR");
      // The stream is out of sync: the parser stays failed.
      expect(() => parser.push(new Uint8Array(1))).toThrow(caught as Error);
    });

    it("defaults to 64 MiB", () => {
      const huge = new Uint8Array([0x04, 0x00, 0x00, 0x01]);
      expect(() => new FrameParser().push(huge)).toThrow(RiffError);
      const ok = new FrameParser();
      expect(ok.push(new Uint8Array([0x04, 0x00, 0x00, 0x00]))).toEqual([]);
      expect(ok.buffered).toBe(4);
    });
  });

  it("rejects malformed frames", () => {
    // Declares one header whose name runs past the end of the frame.
    const bad = new Uint8Array([0, 0, 0, 9, 3, 0, 0, 0, 1, 0, 1, 0, 200]);
    expect(() => new FrameParser().push(bad)).toThrow(/malformed/);
    // Shorter than the fixed part.
    expect(() => new FrameParser().push(new Uint8Array([0, 0, 0, 3, 1, 0, 0]))).toThrow(RiffError);
  });
});
