import { parseDuration, RiffError, toRiffError } from "@riff/core";

/** Prints an error for people: message and hint for user errors, stack and "a bug" for ours. */
export function printError(error: unknown): number {
  const err = toRiffError(error);
  process.stderr.write(`Error: ${err.message}\n`);
  if (err.kind === "user") {
    if (err.hint !== undefined) process.stderr.write(`  ${err.hint}\n`);
    // The stable code, for scripts and for looking it up in docs/errors.md.
    process.stderr.write(`  (${err.code})\n`);
    return 1;
  }
  if (err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  process.stderr.write("This is a bug in riff; please report it with the lines above.\n");
  return 2;
}

/** Informational lines go to stderr so stdout carries only results. */
export function info(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints rows as an aligned table. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("   ").trimEnd();
  process.stdout.write(`${[line(header), ...rows.map(line)].join("\n")}\n`);
}

/** An error for a bad flag or argument. */
export function badArgument(message: string, hint?: string): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", message, hint === undefined ? {} : { hint });
}

/**
 * A duration given on the command line. A bare number would be milliseconds, which for a flag
 * like `--retention 10` is almost never what was meant: a unit is required.
 */
export function flagDuration(value: string, flag: string): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) {
    throw badArgument(`${flag} ${value}: give a unit`, `for example ${flag} ${value}s, ${value}m or ${value}h (ms, s, m, h and d are understood)`);
  }
  return parseDuration(value, flag);
}

/** A whole-number flag from `min` to `max`, or undefined when it was not given. */
export function flagWholeNumber(value: string | undefined, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw badArgument(`${flag} ${value}: must be a whole number ${range}`);
  }
  return n;
}

/** The structured output formats: what `-o` takes besides `text` (and `wide`, a text table with more columns). */
export const DATA_FORMATS = ["json", "yaml"] as const;

/**
 * Prints `data` as JSON or YAML when `format` asks for it, and says whether it did; the caller
 * prints its text form otherwise. Both are stable, for scripts; the text is for people.
 */
export async function printData(format: string | undefined, data: unknown): Promise<boolean> {
  if (format === "json") {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return true;
  }
  if (format === "yaml") {
    const { stringify } = await import("yaml");
    process.stdout.write(stringify(data));
    return true;
  }
  return false;
}
