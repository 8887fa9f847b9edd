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

/**
 * The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
 * (at most 2 edits, or one is a prefix of the other); for "did you mean" hints.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word === "") return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.min(1, editDistance(word, c)) : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= 2 ? best : undefined;
}

/**
 * RIFF_INVOKER_NOT_FOUND for `name`, guessing the closest of the `known` invokers; `where`
 * (a file and field) goes before the message.
 */
export function unknownInvoker(name: string, known: readonly string[], where = ""): RiffError {
  const guess = closest(name, known);
  return new RiffError("RIFF_INVOKER_NOT_FOUND", `${where}unknown invoker '${name}'${guess === undefined ? "" : `; did you mean '${guess}'?`}`, {
    hint: `use one of: ${known.join(", ")}, or declare one with \`riff invokers apply -f FILE\``,
  });
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + cost);
    }
    row = next;
  }
  return row[b.length] as number;
}
