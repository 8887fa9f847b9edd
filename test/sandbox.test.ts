import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff } from "./helpers/riff.js";

// Needs bubblewrap, which .ci/run installs: `--sandbox bwrap` fails the start without it.
describe("the sandbox", () => {
  it("keeps a function away from riff's data and other functions' files", async () => {
    await using riff = await startRiff(["--sandbox", "bwrap"]);
    expect((await deployNode(riff, "other", "module.exports = (x) => x;\n", ["--input", "other-in"])).code).toBe(0);
    const probe = `const fs = require("node:fs");
const tryRead = (p) => { try { fs.readFileSync(p); return "read"; } catch (e) { return e.code; } };
module.exports = () => {
  fs.writeFileSync("mine.txt", "ok");
  return {
    token: tryRead(${JSON.stringify(`${riff.home}/token`)}),
    otherCode: tryRead(${JSON.stringify(`${riff.home}/functions/other/rev-1/other.js`)}),
    topics: tryRead(${JSON.stringify(`${riff.home}/topics`)}),
    daemonEnv: tryRead("/proc/${riff.pid()}/environ"),
    own: fs.readFileSync("mine.txt", "utf8"),
  };
};
`;
    expect((await deployNode(riff, "probe", probe, ["--input", "probe-in"])).code).toBe(0);
    const res = await fetch(`${riff.url}/requests/probe-in`, { method: "POST", body: "x" });
    expect(await res.json()).toEqual({ token: "ENOENT", otherCode: "ENOENT", topics: "ENOENT", daemonEnv: "ENOENT", own: "ok" });
    const status = await riff.cli(["system", "status"]);
    expect(status.stdout).toContain("sandbox: bwrap");
  });

  it("works with the warm pool, and without it", async () => {
    for (const pool of ["1", "0"]) {
      await using riff = await startRiff(["--sandbox", "bwrap", "--pool-size", pool]);
      const d = await deployNode(riff, "square", "module.exports = (x) => x ** 2;\n", ["--input", "numbers", "--idle-timeout", "100ms"]);
      expect(d.code).toBe(0);
      expect((await riff.cli(["publish", "--input", "numbers", "--data", "9", "--reply"])).stdout).toBe("81\n");
    }
  });
});
