import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { startRiff } from "./helpers/riff.js";

const EXAMPLES = resolve(import.meta.dirname, "../examples");

// The samples double as fixtures: each is applied from its folder and called as the README says.
describe("the examples", () => {
  it("square, uppercase and greeter answer as documented", async () => {
    await using riff = await startRiff();
    for (const name of ["square", "uppercase", "greeter"]) {
      const r = await riff.cli(["apply", "-f", join(EXAMPLES, name)]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(`function/${name} created`);
    }
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("100\n");
    expect((await riff.cli(["publish", "--input", "words", "--data", "hello", "--reply"])).stdout).toBe("HELLO\n");
    const g = await riff.cli(["publish", "--input", "names", "--content-type", "application/json", "--data", '{"name":"riff"}', "--reply"]);
    expect(JSON.parse(g.stdout)).toMatchObject({ greeting: "Hello riff!" });
    const again = await riff.cli(["apply", "-f", join(EXAMPLES, "square")]);
    expect(again.stdout).toContain("function/square unchanged");
  });
});
