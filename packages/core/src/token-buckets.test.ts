import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-buckets.js";

describe("TokenBuckets", () => {
  it("lets a second's worth through at once, then one per 1/rate s, and says how long to wait", () => {
    const b = new TokenBuckets();
    expect([b.take("t", 2, 0), b.take("t", 2, 0)]).toEqual([undefined, undefined]);
    expect(b.take("t", 2, 0)).toBe(1);
    expect(b.take("t", 2, 499)).toBe(1);
    expect(b.take("t", 2, 500)).toBeUndefined();
    // Another id has its own bucket; a forgotten one starts full again.
    expect(b.take("u", 2, 500)).toBeUndefined();
    b.forget("t");
    expect(b.take("t", 2, 500)).toBeUndefined();
  });

  it("gives a slow rate a burst of one, and a Retry-After of the whole wait", () => {
    const b = new TokenBuckets();
    expect(b.take("t", 0.001, 0)).toBeUndefined();
    expect(b.take("t", 0.001, 0)).toBe(1000);
  });
});
