import { statSync } from "node:fs";
import { dirname } from "node:path";
import { RiffError, toRiffError } from "@riff/core";

/**
 * `err` with riff's private copies of the function's code in its message (the revision folder,
 * a warm-pool replica's folder under `poolDir`) written as the user's own folder, so that a
 * compile error or a traceback points at the file they edit.
 */
export function withUserPaths(err: unknown, copies: { revisionDir: string; poolDir: string }, artifact: string): RiffError {
  const e = toRiffError(err);
  const source = statSync(artifact, { throwIfNoEntry: false })?.isDirectory() === true ? artifact : dirname(artifact);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`${escape(copies.revisionDir)}|${escape(copies.poolDir)}/[^/\\s]+/[^/\\s]+`, "g");
  // A function, not a string: a `$` in the user's path must not be read as a pattern.
  const message = e.message.replace(pattern, () => source);
  if (message === e.message) return e;
  return new RiffError(e.code, message, { hint: e.hint, details: e.details, cause: err });
}
