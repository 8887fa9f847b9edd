import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";
import { deploy, publishHello } from "./invokers-shared.js";

// Project riff's Node invoker conventions (RIFF-REFERENCE §3) through a real daemon.
describe("the node invoker with Project riff's conventions", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("$interactionModel node-streams: an object-mode Readable in, a Writable out, typed by $defaultContentType", async () => {
    const source = `const { Transform } = require("node:stream");
const mean = (input, output) => {
  let sum = 0, n = 0;
  input.pipe(new Transform({ objectMode: true, transform(x, _, done) { sum += Number(x); n++; done(null, { mean: sum / n }); } })).pipe(output);
  return "ignored";
};
mean.$interactionModel = "node-streams";
mean.$defaultContentType = "application/json";
module.exports = mean;
`;
    const d = await deployNode(riff, "smean", source, ["--input", "ssamples", "--output", "smeans"]);
    expect(d.code).toBe(0);
    for (const x of ["100", "200", "0", "300"]) {
      expect((await fetch(`${riff.url}/messages/ssamples`, { method: "POST", body: x })).status).toBe(202);
    }
    const out = await tailN(riff.home, "smeans", 4);
    expect(out.map((m) => JSON.parse(m.payload) as unknown)).toEqual([{ mean: 100 }, { mean: 150 }, { mean: 100 }, { mean: 150 }]);
    expect(out.map((m) => m.headers["content-type"]?.[0])).toEqual(Array(4).fill("application/json"));
  });

  it("--artifact package.json deploys the package, whose install script runs at create with its output shown", async () => {
    const build = `const fs = require("node:fs");
console.log("building upper.out.js");
fs.writeFileSync("upper.out.js", "module.exports = (s) => s.toUpperCase();\\n");
`;
    const pkg = JSON.stringify({ name: "upper", version: "1.0.0", main: "upper.out.js", scripts: { install: "node build.js" } });
    const r = await deploy(riff, "node", "pkg-upper", { "package.json": pkg, "build.js": build, "README.md": "not the function" }, ["--artifact", "package.json"]);
    expect(r.stdout).toContain("created");
    expect(r.stderr).toContain("pkg-upper: running the package's install script: node build.js");
    expect(r.stderr).toContain("pkg-upper: npm: building upper.out.js");
    expect(r.stderr).toContain("pkg-upper: loading upper.out.js");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO\n");
  });
});
