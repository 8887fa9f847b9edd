import { access, constants, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { RiffError } from "@riff/core";

/**
 * Finds what `spawn(command)` would run, the way execvp does: a name with a slash is a path
 * (relative to `cwd`), a bare name is looked up on `PATH`. Rejects with a startup failure that
 * says what is wrong, so `riff create` fails with a reason instead of every message failing later.
 */
export async function findExecutable(command: string, cwd: string, path: string | undefined): Promise<string> {
  const candidates = command.includes("/")
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (path ?? "").split(delimiter).filter((d) => d !== "").map((d) => join(d, command));
  let lastProblem = "not found";
  for (const file of candidates) {
    const st = await stat(file).catch(() => undefined);
    if (st === undefined) continue;
    if (!st.isFile()) {
      lastProblem = `${file} is not a file`;
      continue;
    }
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      lastProblem = `${file} is not executable (chmod +x it, and start a script with a #! line)`;
    }
  }
  const where = command.includes("/") ? "" : " on PATH";
  throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `cannot run '${command}'${where}: ${lastProblem}`);
}
