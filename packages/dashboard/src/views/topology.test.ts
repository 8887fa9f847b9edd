import type { FunctionView } from "@riff/controller";
import { describe, expect, it } from "vitest";
import { topologySvg } from "./topology.js";

const fn = (name: string, inputs: string[], output?: string) => ({ name, inputs, output }) as unknown as FunctionView;

describe("topologySvg", () => {
  it("draws t1→A→t2→B→t3 as 5 nodes and 4 edges, left to right, with the rates", () => {
    const svg = topologySvg([fn("b", ["t2"], "t3"), fn("a", ["t1"], "t2")], (f) => (f === "a" ? 2.5 : 0)).text;
    expect(svg.match(/data-testid="topo-node-/g)?.length).toBe(5);
    expect(svg.match(/data-testid="topo-edge-/g)?.length).toBe(4);
    expect(svg).toContain('data-testid="topo-rate-t1-a">2.5/s');
    const x = (id: string) => Number(new RegExp(`data-testid="topo-node-${id}">\\s*<rect x="(\\d+)"`).exec(svg)?.[1]);
    expect([x("topic-t1"), x("fn-a"), x("topic-t2"), x("fn-b"), x("topic-t3")]).toEqual([10, 200, 390, 580, 770]);
  });
  it("escapes names and survives a cycle", () => {
    const svg = topologySvg([fn("loop", ["x"], "x")], () => 0).text;
    expect(svg).toContain("topo-edge-x-loop");
    expect(topologySvg([fn("n", ["<t>"])], () => 0).text).not.toContain("<t>");
  });
});
