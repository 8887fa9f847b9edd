import { describe, expect, it } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

describe("OffsetTracker", () => {
  it("advances only over a contiguous run of finished offsets", () => {
    const t = new OffsetTracker();
    for (const o of [5, 6, 7, 8]) t.begin(o);
    expect(t.complete(7)).toBeUndefined();
    expect(t.complete(6)).toBeUndefined();
    expect(t.complete(5)).toBe(7);
    expect(t.pending).toBe(1);
    expect(t.complete(8)).toBe(8);
    expect(t.pending).toBe(0);
  });

  it("keeps working across compaction", () => {
    const t = new OffsetTracker();
    let last: number | undefined;
    for (let o = 0; o < 5000; o++) {
      t.begin(o);
      last = t.complete(o);
    }
    expect(last).toBe(4999);
    expect(t.pending).toBe(0);
  });
});
