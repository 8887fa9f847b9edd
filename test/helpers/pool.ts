import { execFileSync } from "node:child_process";
import type { RiffFixture } from "./riff.js";
import { until } from "./until.js";

/** The folder of `riff`'s warm pool for `runtime` (node, python3, go, java): a pooled replica's working directory. */
export function poolFolder(riff: RiffFixture, runtime: string): string {
  return `${riff.home}/pool/${runtime}/`;
}

/** Whether a pooled process of `runtime` runs (its command line names its folder). */
export function pooledProcessRunning(riff: RiffFixture, runtime: string): boolean {
  try {
    return execFileSync("pgrep", ["-f", poolFolder(riff, runtime)]).toString().trim() !== "";
  } catch {
    return false;
  }
}

/**
 * Waits until `riff`'s warm pool has a process of `runtime` started and waiting, so that the
 * next cold start of such a function takes it. Returns the pool's folder.
 */
export async function pooledProcessWaiting(riff: RiffFixture, runtime: string): Promise<string> {
  await until(`a pooled ${runtime} process`, () => pooledProcessRunning(riff, runtime), 60_000);
  return poolFolder(riff, runtime);
}
