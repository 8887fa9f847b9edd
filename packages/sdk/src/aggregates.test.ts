import { describe, expect, it } from "vitest";
import { countBy, groupBy } from "./aggregates.js";

describe("countBy", () => {
  it("counts by key into a JSON-ready object", () => {
    const counts = countBy(["Two", "One", "Two", "Three", "One", "Two"], (w) => w);
    expect(JSON.stringify(counts)).toBe('{"Two":3,"One":2,"Three":1}');
  });

  it("counts keys that are names of Object.prototype properties", () => {
    expect(JSON.stringify(countBy(["__proto__", "constructor", "__proto__"], (w) => w))).toBe(
      '{"__proto__":2,"constructor":1}',
    );
  });
});

describe("groupBy", () => {
  it("groups items by key, keys in order of first appearance", () => {
    const groups = groupBy([1, 2, 3, 4, 5], (n) => (n % 2 === 0 ? "even" : "odd"));
    expect([...groups]).toEqual([
      ["odd", [1, 3, 5]],
      ["even", [2, 4]],
    ]);
  });
});
