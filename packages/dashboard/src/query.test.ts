import { describe, expect, it } from "vitest";
import { intParam, oneOf, timeParam } from "./query.js";

describe("query parameters", () => {
  it("name the parameter they refuse", () => {
    const q = new URLSearchParams("limit=abc&watch=nope&at=never");
    expect(() => intParam(q, "limit", 50, 1, 500)).toThrow(/'limit'/);
    expect(() => oneOf(q, "watch", ["overview"] as const)).toThrow(/'watch' must be one of overview, not 'nope'/);
    expect(() => timeParam(q, "at")).toThrow(/'at' is not a time/);
  });
  it("take good values and defaults", () => {
    const q = new URLSearchParams("limit=7&at=2026-01-01T00:00:00");
    expect(intParam(q, "limit", 50, 1, 500)).toBe(7);
    expect(intParam(q, "from", 0, 0, 10)).toBe(0);
    expect(timeParam(q, "at")).toBe(Date.UTC(2026, 0, 1));
  });
});
