import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { startRiff } from "./helpers/riff.js";

const EXAMPLES = resolve(import.meta.dirname, "../examples");

// The Python, command and Java samples are fixtures too: applied from their folders, called as docs/invokers.md says.
describe("the python, command and java examples", () => {
  it("py-greeter, wordcount and reverse answer as documented", async () => {
    await using riff = await startRiff();
    for (const [folder, name] of [["python-greeter", "py-greeter"], ["command-wordcount", "wordcount"], ["java-reverse", "reverse"]]) {
      const r = await riff.cli(["apply", "-f", join(EXAMPLES, folder as string)]);
      // Only progress: a compile of a second or more says so (issue 14), nothing else is said.
      expect(r.stderr).toBe(folder === "java-reverse" ? "  reverse: compiling Reverse.java with javac\n" : "");
      expect(r.stdout).toContain(`function/${name} created`);
    }
    const g = await riff.cli(["publish", "--input", "py-names", "--content-type", "application/json", "--data", '{"name":"riff"}', "--reply"]);
    expect(JSON.parse(g.stdout)).toEqual({ greeting: "Hello riff!", language: "python" });
    expect((await riff.cli(["publish", "--input", "sentences", "--data", "one two three", "--reply"])).stdout).toBe("3\n");
    expect((await riff.cli(["publish", "--input", "to-reverse", "--data", "riff", "--reply"])).stdout).toBe("ffir\n");
  });
});
