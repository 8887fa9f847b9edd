import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pythonDir = fileURLToPath(new URL("../python/", import.meta.url));

/** Runs `python3 -m unittest` and resolves with its exit code and output, never rejecting. */
function runUnittest(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // -B: no __pycache__ left in the source tree.
    execFile("python3", ["-B", "-m", "unittest", "-v"], { cwd: pythonDir }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, output: `${stdout}${stderr}${error !== null && code === null ? String(error) : ""}` });
    });
  });
}

describe("riff_windows.py", () => {
  it("passes its unittest suite under the real python3", async () => {
    const { code, output } = await runUnittest();
    expect(code, output).toBe(0);
    expect(output).toMatch(/Ran [1-9]\d* tests/);
    expect(output).toMatch(/^OK$/m);
  });
});
