import { existsSync, readFileSync, watch } from "node:fs";
import { dirname } from "node:path";

/** The non-empty lines of `file`, none when it does not exist yet. */
function linesOf(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/**
 * Resolves with the lines of `file` once `done(lines)` holds, checking on each change of its
 * folder (a function writing the file from its replica): no polling, no sleeps.
 */
export function waitForFileLines(file: string, done: (lines: string[]) => boolean): Promise<string[]> {
  return new Promise((resolve) => {
    const check = () => {
      const lines = linesOf(file);
      if (!done(lines)) return;
      watcher.close();
      resolve(lines);
    };
    const watcher = watch(dirname(file), check);
    check();
  });
}

/** Resolves once `file` has at least `n` lines. */
export function waitForLineCount(file: string, n: number): Promise<string[]> {
  return waitForFileLines(file, (lines) => lines.length >= n);
}

/** Resolves once `file` holds every line of `expected` (duplicates allowed: at-least-once). */
export async function waitForLines(file: string, expected: Set<string>): Promise<Set<string>> {
  return new Set(await waitForFileLines(file, (lines) => [...expected].every((e) => lines.includes(e))));
}
