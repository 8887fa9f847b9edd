import { describe, expect, it } from "vitest";
import { findCycle } from "./topology.js";

describe("findCycle", () => {
  it("sees a function that reads and writes one topic", () => {
    expect(findCycle([{ name: "f", inputs: ["t"], output: "t" }], "f")).toEqual(["t", "f", "t"]);
  });

  it("names a cycle through several functions", () => {
    const fns = [
      { name: "square", inputs: ["numbers"], output: "squares" },
      { name: "back", inputs: ["squares"], output: "numbers" },
    ];
    expect(findCycle(fns, "back")?.join(" -> ")).toBe("squares -> back -> numbers -> square -> squares");
    expect(findCycle(fns, "square")?.join(" -> ")).toBe("numbers -> square -> squares -> back -> numbers");
  });

  it("finds none in a chain, a fan-out or a diamond", () => {
    const fns = [
      { name: "a", inputs: ["in"], output: "x" },
      { name: "b", inputs: ["x"], output: "y" },
      { name: "c", inputs: ["x"], output: "y" },
      { name: "d", inputs: ["y"], output: undefined },
      { name: "e", inputs: ["y", "in"], output: "z" },
    ];
    for (const f of fns) expect(findCycle(fns, f.name)).toBeUndefined();
  });

  it("follows several inputs", () => {
    const fns = [
      { name: "join", inputs: ["left", "right"], output: "joined" },
      { name: "split", inputs: ["joined"], output: "right" },
    ];
    expect(findCycle(fns, "split")?.join(" -> ")).toBe("joined -> split -> right -> join -> joined");
  });
});
