import { describe, expect, it } from "vitest";
import { HOPS_PATTERN, hopsOf } from "./headers.js";

describe("hop counts", () => {
  it("never reads below 0, whatever a message carries", () => {
    const read = (value: string | undefined) => hopsOf(value === undefined ? {} : { "x-riff-hops": [value] });
    expect(read(undefined)).toBe(0);
    expect(read("3")).toBe(3);
    for (const garbage of ["-10", "-0", "abc", "", "NaN", "-Infinity", "0.5"]) expect(read(garbage), garbage).toBe(0);
    expect(read("2.9")).toBe(2);
    // Past every limit, not wrapped round to a small number.
    expect(read("Infinity")).toBe(Infinity);
    expect(read("1e300")).toBeGreaterThan(16);
  });

  it("lets callers send digits only", () => {
    for (const ok of ["0", "3", "999999999"]) expect(HOPS_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ["-1", "1.5", "+1", "1e3", "0x10", " 1", "1, 2", "9999999999", ""]) expect(HOPS_PATTERN.test(bad), bad).toBe(false);
  });
});
