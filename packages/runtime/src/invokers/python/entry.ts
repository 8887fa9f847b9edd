import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RiffError } from "@riff/core";
import type { PreparedFunction } from "../../invoker.js";

/**
 * The module a folder artifact runs (a project with a requirements.txt is deployed whole):
 * none when `--handler module.fn` names it; else `<name>.py`; else the folder's only `.py`
 * file. Returns the file, or undefined to keep the folder.
 */
export function pythonEntry(fn: PreparedFunction): string | undefined {
  if (!statSync(fn.artifact).isDirectory() || fn.handler?.includes(".") === true) return undefined;
  const files = readdirSync(fn.artifact).filter((f) => f.endsWith(".py") && f !== "setup.py");
  const chosen = files.includes(`${fn.name}.py`) ? `${fn.name}.py` : files.length === 1 ? files[0] : undefined;
  if (chosen !== undefined) return join(fn.artifact, chosen);
  throw new RiffError(files.length === 0 ? "RIFF_ARTIFACT_NOT_FOUND" : "RIFF_INVALID_ARGUMENT", `no module in ${fn.source ?? fn.artifact} is the function '${fn.name}': ${files.length === 0 ? "it has no .py file" : `it has ${files.join(", ")}`}`, {
    hint: `name the file ${fn.name}.py, or pass --handler module.function`,
  });
}
