import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RIFF_BIN, startRiff, type RiffFixture } from "./helpers/riff.js";
import { deploy, publishHello } from "./invokers-shared.js";

/**
 * Waits for lines a stream prints, by pattern, with no sleeps: a wait resolves on the first
 * line matching it that was printed after the line the previous wait matched (several waits
 * may run at once, for lines whose order is not fixed).
 */
function lineReader(stream: NodeJS.ReadableStream): (pattern: RegExp) => Promise<string> {
  const seen: string[] = [];
  let mark = 0;
  const waiters: { from: number; pattern: RegExp; resolve: (line: string) => void }[] = [];
  const settle = () => {
    for (const w of [...waiters]) {
      const at = seen.findIndex((line, i) => i >= w.from && w.pattern.test(line));
      if (at === -1) continue;
      waiters.splice(waiters.indexOf(w), 1);
      mark = Math.max(mark, at + 1);
      w.resolve(seen[at] ?? "");
    }
  };
  createInterface({ input: stream }).on("line", (line) => {
    seen.push(line);
    settle();
  });
  return (pattern) =>
    new Promise((resolve) => {
      waiters.push({ from: mark, pattern, resolve });
      settle();
    });
}

/** The function after the save: it logs what it got and answers with a "!". */
const SAVED = 'module.exports = (s) => { console.log("upper got " + s); return s.toUpperCase() + "!"; };\n';

// `riff dev` against a real daemon: real saves of the function's file, a real SIGINT.
describe("riff dev", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("rolls out each save, prints the reply to --data and the logs, keeps serving through a broken save, and stops on Ctrl-C", async () => {
    const d = await deploy(riff, "node", "upper", { "upper.js": "module.exports = (s) => s.toUpperCase();\n" });
    expect(d.code).toBe(0);
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [RIFF_BIN, "dev", "upper", "--data", "hello"], {
      cwd: d.dir,
      env: { ...process.env, RIFF_HOME: riff.home },
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const stdout = lineReader(child.stdout);
    const stderr = lineReader(child.stderr);
    try {
      await stdout(/^upper: watching .* \(revision 1\); Ctrl-C to stop; Enter sends --data again$/);

      // A real save: the new code is rolled out, invoked with --data, and its log line streams.
      writeFileSync(join(d.dir, "upper.js"), SAVED);
      await stdout(/^upper: updated to revision 2$/);
      const afterSave = await Promise.all([stdout(/^HELLO!$/), stdout(/upper got hello/)]);
      expect(afterSave[0]).toBe("HELLO!");
      // On demand: Enter sends --data again.
      child.stdin.write("\n");
      await stdout(/^HELLO!$/);

      // Saving the same code again rolls out nothing.
      writeFileSync(join(d.dir, "upper.js"), SAVED);
      await stdout(/^upper: unchanged \(revision 2\)$/);

      // A save that does not load: the runtime's error is printed, and revision 2 still answers.
      writeFileSync(join(d.dir, "upper.js"), "module.exports = (s) => {\n");
      await stderr(/^upper: this save does not load; revision 2 keeps serving:$/);
      expect(await stderr(/SyntaxError/)).toContain("SyntaxError");
      expect((await publishHello(riff, d.input)).stdout).toBe("HELLO!\n");

      child.kill("SIGINT");
      await stdout(/^upper: stopped at revision 2$/);
      expect(await exited).toBe(130);
    } finally {
      child.kill("SIGKILL");
    }
    // Nothing changed after Ctrl-C: revision 2 is still what answers.
    expect((await publishHello(riff, d.input)).stdout).toBe("HELLO!\n");
  });
});
