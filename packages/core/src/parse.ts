import { LineCounter, parseAllDocuments, isMap, isNode, isScalar, type Document } from "yaml";
import { RiffError } from "./errors.js";
import type { Resource } from "./resources.js";
import { problemsOf, type Problem } from "./parse-issues.js";
import { functionSchema, invokerSchema, resourceSchema, topicSchema } from "./schema.js";
import { closest } from "./names.js";
import { fromRiffYaml, riffInvokerOf, type RiffInvokerMapping } from "./riff-yaml.js";

/** A resource together with where it was read from. */
export interface SourcedResource {
  resource: Resource;
  /** The file it came from, as given to {@link parseResources}. */
  file: string;
  /** 1-based line of the document's start. */
  line: number;
  /** 1-based position of the document in its file (`---` separates them). */
  document: number;
  /** Fields of riff's own YAML that have no meaning here, each with what riff does instead. */
  warnings: string[];
}

/** What one file holds: resources, and riff's Invoker documents mapped onto built-in invokers. */
export interface ParsedDocuments {
  resources: SourcedResource[];
  riffInvokers: (RiffInvokerMapping & { file: string; line: number })[];
}

/** Where a file's Function documents may find what riff's YAML left to a Dockerfile. */
export interface ParseOptions {
  /** The text of the Dockerfile next to the file, as `riff init` wrote it. */
  dockerfile?: string;
}

const KINDS = ["Function", "Topic", "Invoker"];

/**
 * @default 100: aliases (`*name`) one document may expand. A resource needs a few at most; a
 * "billion laughs" document needs thousands to grow to gigabytes in memory.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * Parses every YAML document in `text` and validates each against the resource schema. Errors name
 * the file, the field path and the line, as in `square-function.yaml:7: spec.input: Required`.
 */
export function parseResources(text: string, file: string, options: ParseOptions = {}): SourcedResource[] {
  return parseDocuments(text, file, options).resources;
}

/** {@link parseResources}, also returning riff's Invoker documents (which map onto built-in invokers). */
export function parseDocuments(text: string, file: string, options: ParseOptions = {}): ParsedDocuments {
  const lineCounter = new LineCounter();
  // logLevel error: a hostile document (a mapping as a key) must not print warnings from the daemon.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, logLevel: "error" });
  const out: SourcedResource[] = [];
  const riffInvokers: ParsedDocuments["riffInvokers"] = [];
  if (!Array.isArray(docs)) return { resources: out, riffInvokers };
  // Every problem of every document of the file at once, in line order: fixing one per run is tedious.
  const problems: { line: number; field: string; message: string }[] = [];
  for (const [index, doc] of docs.entries()) {
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      const line = lineCounter.linePos(syntax.pos[0]).line;
      problems.push({ line, field: "", message: syntax.message.split("\n")[0] ?? "YAML syntax error" });
      continue;
    }
    const raw = toValue(doc, file, lineCounter.linePos(doc.range[0]).line);
    if (raw === null || raw === undefined) continue;
    // The contents' line, not the document's: a document's range starts at its `---`.
    const start = isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : doc.range[0];
    const docLine = lineCounter.linePos(start).line;
    const kind = (raw as { kind?: unknown }).kind;
    if (typeof kind === "string" && !KINDS.includes(kind)) {
      const guess = closest(kind, KINDS);
      problems.push({ line: lineOf(doc, lineCounter, ["kind"]) ?? docLine, field: "kind", message: `unknown kind '${kind}'${guess === undefined ? "" : `; did you mean '${guess}'?`} (kinds: ${KINDS.join(", ")})` });
      continue;
    }
    const mapped = riffInvokerOf(raw);
    if (mapped instanceof Error) {
      problems.push({ line: docLine, field: "metadata.name", message: mapped.message });
      continue;
    }
    if (mapped !== undefined) {
      riffInvokers.push({ ...mapped, warnings: mapped.warnings.map((w) => `${file}:${warningLine(doc, lineCounter, w) ?? docLine}: ${w}`), file, line: docLine });
      continue;
    }
    const { value, warnings } = fromRiffYaml(raw, options.dockerfile);
    const result = resourceSchema.safeParse(value);
    if (!result.success) {
      const riffForm = warnings.length > 0 || (raw as { apiVersion?: unknown }).apiVersion === "projectriff.io/v1";
      for (const p of problemsOf(result.error.issues, value, schemaFor(value))) {
        const q = riffForm ? explainRiffForm(p) : p;
        problems.push({ message: q.message, line: lineOf(doc, lineCounter, q.path) ?? docLine, field: q.path.join(".") });
      }
      continue;
    }
    out.push({ resource: result.data as Resource, file, line: docLine, document: index + 1, warnings: warnings.map((w) => `${file}:${warningLine(doc, lineCounter, w) ?? docLine}: ${w}`) });
  }
  if (problems.length > 0) throw invalid(file, problems.sort((a, b) => a.line - b.line));
  return { resources: out, riffInvokers };
}

/**
 * riff's Function names its invoker and code in the Dockerfile `riff init` wrote next to it:
 * a missing spec.invoker or spec.artifact says so.
 */
function explainRiffForm(p: Problem): Problem {
  const field = p.path.join(".");
  if ((field !== "spec.invoker" && field !== "spec.artifact") || p.message !== "is required") return p;
  return { ...p, message: "is required: riff's own Function leaves it to the Dockerfile next to it (FROM projectriff/<invoker>-function-invoker, ENV FUNCTION_URI); keep that Dockerfile with the YAML, or write spec.invoker and spec.artifact" };
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
/** The line of the field a warning of riff's YAML is about: it starts with the field's path (`spec.protocol (grpc): ...`). */
function warningLine(doc: Document, counter: LineCounter, warning: string): number | undefined {
  const path = /^((?:metadata|spec)(?:\.[A-Za-z0-9_-]+)*)/.exec(warning)?.[1]?.split(".");
  if (path === undefined) return undefined;
  // The line of the field's key (a map's value starts on the line after it).
  const parent: unknown = doc.getIn(path.slice(0, -1), true);
  const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1)) : undefined;
  const key: unknown = pair?.key;
  if (isNode(key) && key.range) return counter.linePos(key.range[0]).line;
  return lineOf(doc, counter, path);
}

function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
