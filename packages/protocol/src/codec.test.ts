import { RiffError } from "@riff/core";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameParser,
  FrameType,
  decodeError,
  encodeError,
  encodeFrame,
  encodeFrameWith,
  type Frame,
} from "./index.js";

const enc = new TextEncoder();

function roundTrip(frame: Frame): Frame {
  const frames = new FrameParser().push(encodeFrame(frame));
  expect(frames).toHaveLength(1);
  return frames[0] as Frame;
}

function plain(frame: Frame): unknown {
  // Compare headers by content; parsed headers have a null prototype.
  return { ...frame, headers: { ...frame.headers }, payload: Array.from(frame.payload) };
}

describe("encodeFrame / FrameParser round trip", () => {
  it("keeps an empty payload and no headers", () => {
    const frame: Frame = { type: FrameType.READY, id: 0, headers: {}, payload: new Uint8Array(0) };
    const bytes = encodeFrame(frame);
    expect(bytes.length).toBe(4 + 7);
    expect(plain(roundTrip(frame))).toEqual(plain(frame));
  });

  it("encodeFrameWith writes every byte of the room it is given, and only that: frames cut back to back from one dirty slab decode as they were", () => {
    const slab = new Uint8Array(1 << 20).fill(0xaa);
    let used = 0;
    const fromSlab = (bytes: number) => slab.subarray(used, (used += bytes));
    const frames: Frame[] = Array.from({ length: 1000 }, (_, i) => ({
      type: FrameType.REPLY,
      id: i,
      headers: i % 5 === 0 ? {} : { "content-type": ["text/plain"], "x-i": [String(i).repeat(1 + (i % 7))] },
      payload: enc.encode("y".repeat(i % 300)),
    }));
    const encoded = frames.map((f) => encodeFrameWith(f, fromSlab));
    expect(encoded.map((b) => b.byteOffset)).toEqual(encoded.map((_, i) => encoded.slice(0, i).reduce((n, b) => n + b.length, 0)));
    const decoded = new FrameParser().push(slab.subarray(0, used));
    expect(decoded.map(plain)).toEqual(frames.map(plain));
  });

  it("keeps a large payload", () => {
    const payload = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const out = roundTrip({ type: FrameType.INVOKE, id: 0xffff_ffff, headers: {}, payload });
    expect(out.id).toBe(0xffff_ffff);
    // Compared by hand: vitest's deep equality walks a 5 MiB array far too slowly.
    expect(out.payload.length).toBe(payload.length);
    expect(out.payload.every((b, i) => b === payload[i])).toBe(true);
  });

  it("keeps multi-valued and unicode headers in order", () => {
    const frame: Frame = {
      type: FrameType.REPLY,
      id: 42,
      headers: {
        "content-type": ["application/json"],
        "set-thing": ["a", "b", "c"],
        "x-greeting": ["héllo wörld ✓ 日本語 😀"],
        "x-long": ["é".repeat(200)],
        "x-empty": [""],
      },
      payload: enc.encode('{"ok":true}'),
    };
    const out = roundTrip(frame);
    expect(plain(out)).toEqual(plain(frame));
    expect(Object.keys(out.headers)).toEqual(Object.keys(frame.headers));
  });

  it("writes the documented byte layout", () => {
    const bytes = encodeFrame({
      type: FrameType.INVOKE,
      id: 7,
      headers: { "content-type": ["text/plain"] },
      payload: enc.encode("hi"),
    });
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
    // This exact string appears in docs/protocol.md.
    expect(hex).toBe(
      "00 00 00 25 03 00 00 00 07 00 01 00 0c 63 6f 6e 74 65 6e 74 2d 74 79 70 65 " +
        "00 00 00 0a 74 65 78 74 2f 70 6c 61 69 6e 68 69",
    );
  });

  it("omits header names with no values", () => {
    const out = roundTrip({ type: 3, id: 1, headers: { gone: [] }, payload: new Uint8Array(0) });
    expect({ ...out.headers }).toEqual({});
  });

  it("rejects fields that do not fit their width", () => {
    const payload = new Uint8Array(0);
    expect(() => encodeFrame({ type: 256, id: 1, headers: {}, payload })).toThrow(RiffError);
    expect(() => encodeFrame({ type: 1, id: -1, headers: {}, payload })).toThrow(RiffError);
    expect(() => encodeFrame({ type: 1, id: 2 ** 32, headers: {}, payload })).toThrow(RiffError);
    expect(() => encodeFrame({ type: 1, id: 1, headers: { ["n".repeat(70_000)]: ["v"] }, payload })).toThrow(
      /header name/,
    );
  });
});

describe("decodeError / encodeError", () => {
  it("round-trips the four fields and nothing else", () => {
    const err = Object.assign(new TypeError("boom"), { code: "RIFF_FUNCTION_ERROR", extra: 1 });
    const out = decodeError(encodeError(err));
    expect(out).toEqual({ name: "TypeError", code: "RIFF_FUNCTION_ERROR", message: "boom", stack: err.stack });
  });

  it("turns bad JSON into a protocol error carrying the text", () => {
    expect(decodeError(enc.encode("Traceback: oops"))).toEqual({ code: "RIFF_PROTOCOL_ERROR", message: "Traceback: oops" });
    expect(decodeError(new Uint8Array(0))).toEqual({ code: "RIFF_PROTOCOL_ERROR", message: "empty error body" });
    expect(decodeError(enc.encode("[1,2]"))).toEqual({ code: "RIFF_PROTOCOL_ERROR", message: "[1,2]" });
    expect(decodeError(enc.encode("null")).code).toBe("RIFF_PROTOCOL_ERROR");
  });

  it("keeps what it can from a body of the wrong shape", () => {
    expect(decodeError(enc.encode('{"message":"m","name":7}'))).toEqual({ code: "RIFF_PROTOCOL_ERROR", message: "m" });
    expect(decodeError(enc.encode('{"code":"X"}'))).toEqual({ code: "X", message: '{"code":"X"}' });
  });

  it("does not throw on invalid UTF-8", () => {
    expect(decodeError(new Uint8Array([0xff, 0xfe])).code).toBe("RIFF_PROTOCOL_ERROR");
  });
});

it("exports the documented constants", () => {
  expect(DEFAULT_MAX_FRAME_BYTES).toBe(64 * 1024 * 1024);
  expect(FrameType).toEqual({
    READY: 1,
    INIT_FAILED: 2,
    INVOKE: 3,
    REPLY: 4,
    ERROR: 5,
    STREAM_OPEN: 6,
    STREAM_INPUT: 7,
    STREAM_OUTPUT: 8,
    STREAM_END: 9,
    SHUTDOWN: 10,
    LOAD: 11,
  });
});
