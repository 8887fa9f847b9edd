import { describe, expect, it } from "vitest";
import { dealPartitions } from "./share.js";

describe("dealPartitions", () => {
  it("deals partitions round-robin by id, whatever order the members come in", () => {
    const a = dealPartitions(4, [{ id: "b", weight: 1 }, { id: "a", weight: 1 }]);
    expect(Object.fromEntries(a)).toEqual({ a: [0, 2], b: [1, 3] });
  });

  it("gives a member of weight 2 twice the partitions", () => {
    const d = dealPartitions(6, [{ id: "a", weight: 2 }, { id: "b", weight: 1 }]);
    expect(d.get("a")).toEqual([0, 2, 3, 5]);
    expect(d.get("b")).toEqual([1, 4]);
  });

  it("leaves standbys out while a member of weight > 0 lives, and shares among them when none does", () => {
    expect(Object.fromEntries(dealPartitions(2, [{ id: "a", weight: 1 }, { id: "s", weight: 0 }]))).toEqual({ a: [0, 1], s: [] });
    expect(Object.fromEntries(dealPartitions(3, [{ id: "s1", weight: 0 }, { id: "s2", weight: 0 }]))).toEqual({ s1: [0, 2], s2: [1] });
  });

  it("gives nothing to nobody, and every partition to a lone member", () => {
    expect(dealPartitions(3, []).size).toBe(0);
    expect(dealPartitions(3, [{ id: "x", weight: 5 }]).get("x")).toEqual([0, 1, 2]);
  });
});
