import { describe, expect, it } from "vitest";
import type { StoredMessage } from "./broker.js";
import { TailCache } from "./tail-cache.js";

function message(offset: number, bytes = 10): StoredMessage {
  return {
    topic: "t",
    partition: 0,
    offset,
    payload: new Uint8Array(bytes),
    headers: {},
    key: undefined,
    timestamp: 0,
  };
}

describe("TailCache", () => {
  it("serves the newest messages by offset, within its count", () => {
    const cache = new TailCache(3, 1_000);
    for (let o = 5; o < 10; o++) cache.push(message(o));
    expect(cache.has(6)).toBe(false);
    expect(cache.has(7)).toBe(true);
    expect(cache.has(10)).toBe(false);
    expect(cache.slice(7, 10).map((m) => m.offset)).toEqual([7, 8, 9]);
    expect(cache.slice(8, 1).map((m) => m.offset)).toEqual([8]);
  });

  it("drops the oldest when over its bytes, but always keeps the newest", () => {
    const cache = new TailCache(100, 25);
    cache.push(message(0));
    cache.push(message(1));
    cache.push(message(2));
    expect(cache.has(0)).toBe(false);
    expect(cache.slice(1, 10).map((m) => m.offset)).toEqual([1, 2]);
    cache.push(message(3, 500));
    expect(cache.slice(3, 10).map((m) => m.offset)).toEqual([3]);
    expect(cache.has(2)).toBe(false);
  });

  it("starts over after a gap, and forgets what retention removed", () => {
    const cache = new TailCache(100, 10_000);
    cache.push(message(0));
    cache.push(message(5));
    expect(cache.has(0)).toBe(false);
    expect(cache.has(5)).toBe(true);
    for (let o = 6; o < 3000; o++) cache.push(message(o));
    expect(cache.slice(2950, 100).length).toBe(50);
    cache.dropBefore(2990);
    expect(cache.has(2989)).toBe(false);
    expect(cache.slice(2990, 100).map((m) => m.offset)).toEqual([
      2990, 2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999,
    ]);
  });

  it("holds nothing with a count of 0", () => {
    const cache = new TailCache(0, 10_000);
    cache.push(message(0));
    expect(cache.has(0)).toBe(false);
  });
});
