import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "./duration.js";

describe("formatDuration", () => {
  it("uses the largest unit that fits, and leaves a zero second unit out", () => {
    const cases: [number, string][] = [
      [850, "850ms"],
      [12_500, "12.5s"],
      [200_000, "3m20s"],
      [180_000, "3m"],
      [7_500_000, "2h5m"],
      [43_200_000, "12h"],
      [604_800_000, "7d"],
      [90_000_000, "1d1h"],
    ];
    for (const [ms, text] of cases) expect(formatDuration(ms)).toBe(text);
  });

  it("writes what parseDuration reads back", () => {
    for (const text of ["3m", "12h", "7d", "2h5m"]) expect(formatDuration(parseDuration(text, "x"))).toBe(text);
  });
});
