import { LineCounter, parseAllDocuments, isNode, type Document } from "yaml";
import { RiffError } from "./errors.js";
import type { Resource } from "./resources.js";
import { problemsOf } from "./parse-issues.js";
import { functionSchema, invokerSchema, resourceSchema, topicSchema } from "./schema.js";

/** A resource together with where it was read from. */
export interface SourcedResource {
  resource: Resource;
  /** The file it came from, as given to {@link parseResources}. */
  file: string;
  /** 1-based line of the document's start. */
  line: number;
  /** 1-based position of the document in its file (`---` separates them). */
  document: number;
}

/**
 * @default 100: aliases (`*name`) one document may expand. A resource needs a few at most; a
 * "billion laughs" document needs thousands to grow to gigabytes in memory.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * Parses every YAML document in `text` and validates each against the resource schema. Errors name
 * the file, the field path and the line, as in `square-function.yaml:7: spec.input: Required`.
 */
export function parseResources(text: string, file: string): SourcedResource[] {
  const lineCounter = new LineCounter();
  // logLevel error: a hostile document (a mapping as a key) must not print warnings from the daemon.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, logLevel: "error" });
  if (!Array.isArray(docs)) return [];
  const out: SourcedResource[] = [];
  for (const [index, doc] of docs.entries()) {
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      const line = lineCounter.linePos(syntax.pos[0]).line;
      throw invalid(file, [{ line, field: "", message: syntax.message.split("\n")[0] ?? "YAML syntax error" }]);
    }
    const value = toValue(doc, file, lineCounter.linePos(doc.range[0]).line);
    if (value === null || value === undefined) continue;
    // The contents' line, not the document's: a document's range starts at its `---`.
    const start = isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : doc.range[0];
    const docLine = lineCounter.linePos(start).line;
    const result = resourceSchema.safeParse(value);
    if (!result.success) {
      // Every problem of the document at once, in line order: fixing one per run is tedious.
      const problems = problemsOf(result.error.issues, value, schemaFor(value))
        .map((p) => ({ ...p, line: lineOf(doc, lineCounter, p.path) ?? docLine, field: p.path.join(".") }))
        .sort((a, b) => a.line - b.line);
      throw invalid(file, problems);
    }
    out.push({ resource: result.data as Resource, file, line: docLine, document: index + 1 });
  }
  return out;
}

/** The document as plain data, refusing alias bombs and nesting too deep to walk. */
function toValue(doc: Document, file: string, line: number): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    const aliases = err instanceof ReferenceError && /excessive alias count/i.test(err.message);
    const message = aliases
      ? `the document expands YAML aliases (*name) more than ${MAX_YAML_ALIASES} times, which riff refuses as a resource exhaustion attack ("billion laughs")`
      : `the document cannot be read: ${err instanceof Error ? err.message.split("\n")[0] ?? "" : String(err)}`;
    throw new RiffError("RIFF_INVALID_RESOURCE", `${file}:${line}: ${message}`, {
      hint: aliases ? "write the repeated values out, or use fewer aliases" : "fix the document: every alias (*name) needs its anchor (&name) before it, and resources need no deep nesting",
      details: { file, line, field: "" },
    });
  }
}

/** One RIFF_INVALID_RESOURCE for all of a document's problems, a `file:line: field: message` line each. */
function invalid(file: string, problems: { line: number; field: string; message: string }[]): RiffError {
  const lines = problems.map(({ line, field, message }) => `${file}:${line}:${field === "" ? "" : ` ${field}:`} ${message}`);
  const first = problems[0] ?? { line: 1, field: "" };
  return new RiffError("RIFF_INVALID_RESOURCE", lines.join("\n"), {
    hint: `fix ${problems.length === 1 ? "the field" : "the fields"} in the file and apply it again; see docs/resources.md for every field`,
    details: { file, line: first.line, field: first.field, problems },
  });
}

/** The schema of the document's kind, to list the fields it allows. */
function schemaFor(value: unknown): unknown {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === "Topic" ? topicSchema : kind === "Invoker" ? invokerSchema : kind === "Function" ? functionSchema : undefined;
}

/** The line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
