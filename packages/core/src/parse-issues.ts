import type { z } from "zod";
import { closest } from "./names.js";

/** One problem found in a document, before it is given a line. */
export interface Problem {
  /** Path of the field at fault, e.g. ["spec", "input"]. */
  path: (string | number)[];
  message: string;
}

type Issue = z.core.$ZodIssue;

/**
 * Turns zod's issues into problems a person can act on: a missing field "is required", a wrong
 * type says what was expected and what was given, and each unknown field is its own problem,
 * at its own path, with the closest known field as a suggestion (`inputs` → `input`).
 */
export function problemsOf(issues: readonly Issue[], value: unknown, schema: unknown): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      const known = knownFields(schema, path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        out.push({ path: [...path, key], message: `unknown field${guess === undefined ? "" : `; did you mean '${guess}'?`}${known.length > 0 ? ` (fields here: ${known.join(", ")})` : ""}` });
      }
      continue;
    }
    const given = at(value, path);
    if (given === undefined && (issue.code === "invalid_type" || issue.code === "invalid_union")) {
      out.push({ path, message: "is required" });
    } else if (issue.code === "invalid_type" || issue.code === "invalid_union") {
      out.push({ path, message: `must be ${expected(issue).join(" or ")}, not ${kindOf(given)}${typeof given === "string" ? ` ('${given}')` : ""}` });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

function expected(issue: Issue): string[] {
  const types = issue.code === "invalid_union" ? issue.errors.flat().map((e) => (e.code === "invalid_type" ? e.expected : "")) : issue.code === "invalid_type" ? [issue.expected] : [];
  return [...new Set(types.filter(Boolean).map((t) => (t === "array" ? "a list" : t === "object" ? "a mapping" : `a ${t}`)))];
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "a mapping" : `a ${typeof v}`;
}

function at(value: unknown, path: (string | number)[]): unknown {
  let v = value;
  for (const p of path) v = v !== null && typeof v === "object" ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

/** The field names the schema allows at `path` (through unions by kind, defaults and optionals). */
function knownFields(schema: unknown, path: (string | number)[]): string[] {
  let s = unwrap(schema);
  for (const p of path) s = unwrap(shapeOf(s)?.[p]);
  return Object.keys(shapeOf(s) ?? {});
}

function shapeOf(s: unknown): Record<string, unknown> | undefined {
  return (s as { shape?: Record<string, unknown> } | undefined)?.shape;
}

function unwrap(s: unknown): unknown {
  let cur = s as { unwrap?: () => unknown; def?: { innerType?: unknown } } | undefined;
  for (let i = 0; i < 4 && cur !== undefined; i++) {
    const inner = cur.def?.innerType;
    if (inner === undefined) break;
    cur = inner as typeof cur;
  }
  return cur;
}

/**
 * The first problem of a failed parse as one line, `field: what is wrong` ("spec.input: must be a
 * string or a list, not a mapping"), for where one line is all there is room for (a
 * Kubernetes condition).
 */
export function firstProblem(issues: readonly Issue[], value: unknown, schema: unknown): string {
  const p = problemsOf(issues, value, schema)[0];
  return p === undefined ? "spec: invalid" : `${p.path.join(".") || "spec"}: ${p.message}`;
}
