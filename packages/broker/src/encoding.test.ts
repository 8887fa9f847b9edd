import { describe, expect, it } from "vitest";
import { decodeHeaders, encodeHeaders, hashKey, partitionForKey } from "./encoding.js";

describe("hashKey", () => {
  it("is 32-bit FNV-1a of the UTF-8 bytes", () => {
    // Reference vectors of FNV-1a 32.
    expect(hashKey("")).toBe(0x811c9dc5);
    expect(hashKey("a")).toBe(0xe40c292c);
    expect(hashKey("foobar")).toBe(0xbf9cf968);
    // Non-ASCII keys hash their UTF-8 encoding, as other languages' clients would.
    expect(hashKey("é")).toBe(
      Math.imul(Math.imul(0x811c9dc5 ^ 0xc3, 0x01000193) ^ 0xa9, 0x01000193) >>> 0,
    );
  });

  it("maps a key into the partition range", () => {
    for (const key of ["user-1", "user-2", "ключ", "🔑"]) {
      const p = partitionForKey(key, 7);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(7);
    }
  });
});

describe("headers encoding", () => {
  it("stores nothing for no headers and lower-cases names, merging their values", () => {
    expect(encodeHeaders(undefined)).toBeNull();
    expect(encodeHeaders({})).toBeNull();
    const stored = encodeHeaders({ "X-Id": ["1"], "x-id": ["2"], accept: ["a", "b"] });
    expect(decodeHeaders(stored)).toEqual({ "x-id": ["1", "2"], accept: ["a", "b"] });
    expect(decodeHeaders(null)).toEqual({});
  });
});
