import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { HEAP_GROWING_PERCENT } from "./heap-growth.js";

describe("limitHeapGrowth", () => {
  // V8 does not fail on a flag it lacks, it prints an error: a Node whose V8 dropped this one
  // would print it at every daemon start and let the heap grow as before.
  it("sets a flag this node's V8 knows", () => {
    const script = `require("node:v8").setFlagsFromString("--heap-growing-percent=${HEAP_GROWING_PERCENT}")`;
    const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
