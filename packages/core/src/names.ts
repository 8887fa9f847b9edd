import { RiffError } from "./errors.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True when `name` is a DNS-1123 label: lower-case letters, digits and '-', at most 63. */
export function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= 63 && DNS1123_LABEL.test(name);
}

/** Throws RIFF_INVALID_NAME, naming `what`, unless `name` is a DNS-1123 label. */
export function assertValidName(name: unknown, what: string): asserts name is string {
  if (typeof name === "string" && isValidName(name)) return;
  throw new RiffError("RIFF_INVALID_NAME", `${what} '${String(name)}' is not a valid name`, {
    hint: "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. 'square', 'word-count')",
  });
}
