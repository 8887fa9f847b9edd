import { LineCounter, parseAllDocuments, isNode, type Document } from "yaml";
import { RiffError } from "./errors.js";
import type { Resource } from "./resources.js";
import { resourceSchema } from "./schema.js";

/** A resource together with where it was read from. */
export interface SourcedResource {
  resource: Resource;
  /** The file it came from, as given to {@link parseResources}. */
  file: string;
  /** 1-based line of the document's start. */
  line: number;
}

/**
 * Parses every YAML document in `text` and validates each against the resource schema. Errors name
 * the file, the field path and the line, as in `square-function.yaml:7: spec.input: Required`.
 */
export function parseResources(text: string, file: string): SourcedResource[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  if (!Array.isArray(docs)) return [];
  const out: SourcedResource[] = [];
  for (const doc of docs) {
    const syntax = doc.errors[0];
    if (syntax !== undefined) {
      const line = lineCounter.linePos(syntax.pos[0]).line;
      throw invalid(file, line, "", syntax.message.split("\n")[0] ?? "YAML syntax error");
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    // The contents' line, not the document's: a document's range starts at its `---`.
    const start = isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : doc.range[0];
    const docLine = lineCounter.linePos(start).line;
    const result = resourceSchema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0];
      const path = (issue?.path ?? []).map((p) => (typeof p === "symbol" ? String(p) : p));
      const line = lineOf(doc, lineCounter, path) ?? docLine;
      throw invalid(file, line, path.join("."), issue?.message ?? "invalid");
    }
    out.push({ resource: result.data as Resource, file, line: docLine });
  }
  return out;
}

function invalid(file: string, line: number, field: string, message: string): RiffError {
  const where = field === "" ? "" : ` ${field}:`;
  return new RiffError("RIFF_INVALID_RESOURCE", `${file}:${line}:${where} ${message}`, {
    hint: "fix the field in the file and apply it again; see docs/resources.md for every field",
    details: { file, line, field },
  });
}

/** The line of the deepest node that exists along `path` (a missing field points at its parent). */
function lineOf(doc: Document, counter: LineCounter, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}
