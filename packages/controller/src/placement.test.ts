import { describe, expect, it } from "vitest";
import { place, samePlacement, type NodeLoad } from "./placement.js";

const at = "2026-01-01T00:00:00.000Z";
const nodes = (...loads: [string, number][]): NodeLoad[] => loads.map(([id, replicas]) => ({ id, replicas }));

describe("place", () => {
  it("spreads replicas over the least loaded nodes and keeps one more as a standby", () => {
    const p = place(2, undefined, nodes(["a", 5], ["b", 0], ["c", 1]), "lag", at);
    expect(p.nodes).toEqual({ b: 1, c: 1, a: 0 });
    expect(p.reason).toBe("lag");
  });

  it("keeps replicas where they are when it grows, and takes from the busiest when it shrinks", () => {
    const before = { nodes: { a: 1, b: 0 }, reason: "", at };
    expect(place(3, before, nodes(["a", 1], ["b", 0], ["c", 0]), "up", at).nodes).toEqual({ a: 1, b: 1, c: 1 });
    const big = { nodes: { a: 3, b: 1 }, reason: "", at };
    expect(place(2, big, nodes(["a", 3], ["b", 1]), "down", at).nodes).toEqual({ a: 1, b: 1 });
  });

  it("evens the counts out when a node comes back", () => {
    const before = { nodes: { a: 2 }, reason: "", at };
    expect(place(2, before, nodes(["a", 2], ["b", 0]), "node b is back", at).nodes).toEqual({ a: 1, b: 1 });
    expect(place(5, { nodes: { a: 5 }, reason: "", at }, nodes(["a", 5], ["b", 0]), "", at).nodes).toEqual({ a: 3, b: 2 });
  });

  it("at zero keeps the node that ran it as the function's home", () => {
    const before = { nodes: { b: 1, c: 0 }, reason: "", at };
    expect(place(0, before, nodes(["a", 0], ["b", 1], ["c", 0]), "idle", at).nodes).toEqual({ b: 0 });
  });

  it("moves a dead node's replicas to live ones", () => {
    const before = { nodes: { a: 2, b: 0 }, reason: "", at };
    expect(place(2, before, nodes(["b", 0], ["c", 3]), "node a left", at).nodes).toEqual({ b: 1, c: 1 });
    expect(place(1, before, nodes(["b", 0], ["c", 3]), "node a left", at).nodes).toEqual({ b: 1, c: 0 });
  });

  it("changes nothing without live nodes, and compares placements by their nodes", () => {
    const before = { nodes: { a: 1 }, reason: "", at };
    expect(place(3, before, [], "x", at)).toBe(before);
    expect(samePlacement(before, { nodes: { a: 1 }, reason: "other", at: "later" })).toBe(true);
    expect(samePlacement(before, { nodes: { a: 2 }, reason: "", at })).toBe(false);
  });
});
