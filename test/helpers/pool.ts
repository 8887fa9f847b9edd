import { execFileSync } from "node:child_process";
import type { RiffFixture } from "./riff.js";
import { until } from "./until.js";

/**
 * Waits until `riff`'s warm pool has a process of `runtime` (node, python3, go, java) started
 * and waiting, so that the next cold start of such a function takes it. Returns the pool's
 * folder, which is the working directory a pooled replica runs in.
 */
export async function pooledProcessWaiting(riff: RiffFixture, runtime: string): Promise<string> {
  const folder = `${riff.home}/pool/${runtime}/`;
  await until(`a pooled ${runtime} process`, () => {
    try {
      return execFileSync("pgrep", ["-f", folder]).toString().trim() !== "";
    } catch {
      return false;
    }
  }, 60_000);
  return folder;
}
