import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { daemonNodeFlags } from "./system.js";

describe("the daemon's node flags", () => {
  it("cap the semi-spaces, unless NODE_OPTIONS already sets them", () => {
    expect(daemonNodeFlags(undefined)).toEqual(["--max-semi-space-size=4"]);
    expect(daemonNodeFlags("--enable-source-maps")).toEqual(["--max-semi-space-size=4"]);
    expect(daemonNodeFlags("--max-semi-space-size=16")).toEqual([]);
  });

  // A Node whose V8 dropped the flag would refuse to start the daemon at all.
  it("are flags this node accepts", () => {
    const run = spawnSync(process.execPath, [...daemonNodeFlags(undefined), "-e", ""], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
