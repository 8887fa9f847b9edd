import { realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import {
  deadLetterTopicOf,
  withFunctionDefaults,
  isValidName,
  RiffError,
  unknownInvoker,
  type FunctionResource,
  type InvokerResource,
  type ResolvedFunction,
} from "@riff/core";
import { parseDocuments, type SourcedResource } from "@riff/core/validation";
import { homePaths } from "./options.js";
import { dockerfileNextTo, type ApplyResult, type InvokerRegistry, type ResolvedResources } from "@riff/controller";

/** One YAML file sent by the CLI: its absolute path (artifacts resolve against it) and text. */
export interface SourceDocument {
  file: string;
  text: string;
}

/** riff's Invoker document, applied as the built-in invoker of its language. */
export interface BuiltinMapping {
  name: string;
  builtin: string;
  warnings: string[];
}

/** What an apply will do, with the warnings of riff's own YAML to send back with its results. */
export interface ResolvedDocuments {
  resources: ResolvedResources;
  /** `Kind/name` -> fields of riff's YAML with no meaning here, each saying what riff does instead. */
  warnings: Map<string, string[]>;
  builtins: BuiltinMapping[];
}

/** An apply's result line as the API answers it: the controller's, plus warnings. */
export type DocumentResult = (ApplyResult | { kind: "Invoker"; name: string; action: "built-in"; builtin: string }) & { warnings?: string[] };

/**
 * The edge of `riff apply`: YAML parsed and checked (every problem at its file, field and
 * line), artifacts resolved against their files' folders, defaults applied. The controller
 * gets resources, never YAML. Every file is checked before anything is applied, and the
 * problems of all of them are reported at once: fixing one file per run is tedious.
 */
export function resolveDocuments(documents: SourceDocument[], invokers: InvokerRegistry, home?: string): ResolvedDocuments {
  const out: ResolvedResources = { topics: [], invokers: [], functions: [] };
  const warnings = new Map<string, string[]>();
  const builtins: BuiltinMapping[] = [];
  const functionDocs: { resource: FunctionResource; file: string }[] = [];
  const seen = new Map<string, SourcedResource>();
  const failures: RiffError[] = [];
  for (const doc of documents) {
    try {
      const parsed = parseDocuments(doc.text, doc.file, dockerfileNextTo(doc.file));
      if (parsed.resources.length === 0 && parsed.riffInvokers.length === 0) {
        throw new RiffError("RIFF_INVALID_RESOURCE", `${doc.file}: the file holds no resource (it is empty, or only comments)`, {
          hint: "write a Function, Topic or Invoker in it (see docs/resources.md), or remove the file",
          details: { file: doc.file, line: 1, field: "" },
        });
      }
      for (const m of parsed.riffInvokers) {
        const known = invokers.get(m.builtin);
        const extra = m.matchers.filter((p) => known !== undefined && !known.matchers.includes(p));
        // m.warnings name their lines already.
        const notes = extra.length === 0 ? m.warnings : [...m.warnings, `${m.file}:${m.line}: spec.matchers ${extra.join(", ")}: not used; the built-in '${m.builtin}' invoker finds ${known?.matchers.join(", ") ?? ""} (pass --artifact for anything else)`];
        builtins.push({ name: m.name, builtin: m.builtin, warnings: notes });
      }
      for (const sourced of parsed.resources) {
        const { resource } = sourced;
        if (!firstDeclaration(seen, sourced)) continue;
        if (sourced.warnings.length > 0) warnings.set(`${resource.kind}/${resource.metadata.name}`, sourced.warnings);
        if (resource.kind === "Topic") out.topics.push(resource);
        else if (resource.kind === "Invoker") out.invokers.push(resource);
        else functionDocs.push({ resource, file: doc.file });
      }
    } catch (err) {
      if (!(err instanceof RiffError) || err.code !== "RIFF_INVALID_RESOURCE") throw err;
      failures.push(err);
    }
  }
  // Invokers declared in the same apply count as known: they are applied first.
  const declared = new Map(out.invokers.map((i) => [i.metadata.name, i] as const));
  for (const { resource, file } of functionDocs) {
    try {
      const fn = resolveFunction(invokers, declared, resource, file);
      const outside = checkArtifactPlace(fn.artifact, file, resource.spec.artifact, home);
      if (outside !== undefined) warnings.set(`Function/${fn.name}`, [...(warnings.get(`Function/${fn.name}`) ?? []), outside]);
      out.functions.push(fn);
    } catch (err) {
      if (!(err instanceof RiffError) || failures.length === 0) throw err;
      failures.push(err);
    }
  }
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0];
  if (failures.length > 1) {
    // A file's error lists each of its problems: the count is theirs, not the files'.
    const count = failures.reduce((n, f) => n + Math.max(1, (f.details?.["problems"] as unknown[] | undefined)?.length ?? 1), 0);
    throw new RiffError("RIFF_INVALID_RESOURCE", failures.map((f) => f.message).join("\n"), {
      hint: `fix these ${count} problems and apply again; nothing was changed`,
      details: { problems: failures.map((f) => f.toJSON()) },
    });
  }
  return { resources: out, warnings, builtins };
}

/** The apply's results with the warnings of riff's YAML on the resources they are about, and riff's invokers. */
export function withNotes(results: ApplyResult[], resolved: ResolvedDocuments): DocumentResult[] {
  const annotated: DocumentResult[] = results.map((r) => {
    const w = resolved.warnings.get(`${r.kind}/${r.name}`);
    return w === undefined ? r : { ...r, warnings: w };
  });
  const mapped: DocumentResult[] = resolved.builtins.map((b) => ({ kind: "Invoker", name: b.name, action: "built-in", builtin: b.builtin, warnings: b.warnings }));
  return [...mapped, ...annotated];
}


/**
 * Records a resource, or refuses a second one of the same kind and name: otherwise the last
 * would silently win. The same document twice (two functions' topic files both declaring their
 * shared topic, as `riff create` writes them) is no conflict; it counts once.
 */
function firstDeclaration(seen: Map<string, SourcedResource>, sourced: SourcedResource): boolean {
  const { kind, metadata } = sourced.resource;
  const key = `${kind}/${metadata.name}`;
  const first = seen.get(key);
  if (first === undefined) {
    seen.set(key, sourced);
    return true;
  }
  if (canonical(first.resource) === canonical(sourced.resource)) return false;
  const where = (r: SourcedResource) => `${r.file}:${r.line} (document ${r.document})`;
  throw new RiffError("RIFF_DUPLICATE_RESOURCE", `${kind} '${metadata.name}' is declared twice, differently: at ${where(first)} and at ${where(sourced)}`, {
    hint: `keep one ${kind} '${metadata.name}' in what you apply, or rename one of them`,
    details: { kind, name: metadata.name, documents: [first, sourced].map((r) => ({ file: r.file, line: r.line, document: r.document })) },
  });
}

/** A resource as JSON with its keys sorted, so equal documents compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** A Function document with its defaults applied and its artifact resolved against its file. */
function resolveFunction(invokers: InvokerRegistry, declared: Map<string, InvokerResource>, resource: FunctionResource, file: string): ResolvedFunction {
  const { spec, metadata } = resource;
  const invoker = invokers.get(spec.invoker);
  const fresh = declared.get(spec.invoker)?.spec;
  if (invoker === undefined && fresh === undefined) throw unknownInvoker(spec.invoker, invokers.names(), `${file}: spec.invoker: `);
  checkDeadLetter(resource, file);
  const defaultConcurrency = (fresh === undefined ? invoker?.defaultConcurrency : (fresh.concurrency ?? (fresh.protocol === "exec" ? 1 : 16))) ?? 16;
  return withFunctionDefaults(resource, { artifact: resolve(dirname(file), spec.artifact), source: file, defaultConcurrency });
}

/** The dead-letter topic must be a topic name, and not one the function reads: it would run its own failures. */
function checkDeadLetter({ metadata, spec }: FunctionResource, file: string): void {
  const topic = deadLetterTopicOf({ name: metadata.name, deadLetter: spec.deadLetter });
  if (!isValidName(topic)) {
    throw new RiffError("RIFF_INVALID_RESOURCE", `${file}: metadata.name: '${topic}', the dead-letter topic named after function '${metadata.name}', is over 63 characters`, {
      hint: "name the dead-letter topic with spec.deadLetter (riff create --dead-letter TOPIC), or give the function a shorter name",
    });
  }
  const inputs = Array.isArray(spec.input) ? spec.input : [spec.input];
  if (inputs.includes(topic)) {
    throw new RiffError("RIFF_INVALID_RESOURCE", `${file}: spec.deadLetter: function '${metadata.name}' reads '${topic}', so it cannot be its dead-letter topic`, {
      hint: "name another topic with spec.deadLetter; a function that handles dead letters needs a dead-letter topic of its own",
    });
  }
}

/** The names of what riff keeps at the top of a home (`homePaths`, and the sandbox's and port's files). */
function riffEntries(home: string): Set<string> {
  return new Set([...Object.values(homePaths(home)).map((p) => basename(p)), "sandbox", "last-port"]);
}

/** Whether `path` is `dir` or inside it. */
function within(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

/** The path with its links resolved, where it exists (a missing artifact is reported when it is read). */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Refuses an artifact in riff's home, or one that holds it: its copy would put riff's token,
 * secrets and data in reach of the function (and a folder cannot be copied into itself). A
 * file of the user's at the home's top, not one of riff's, is taken (a home made in the code's
 * folder, as the benchmarks do). An artifact outside the YAML file's folder is taken, with a
 * warning: the function can read every file it names, and a YAML from someone else's
 * repository should not pick them.
 */
function checkArtifactPlace(artifact: string, file: string, given: string, home: string | undefined): string | undefined {
  const at = real(artifact);
  if (home !== undefined) {
    const h = real(home);
    // A file of the user's right in the home (a home made in the code's folder) is theirs.
    const rel = relative(h, at);
    const ownFile = rel !== "" && !rel.includes(sep) && !riffEntries(h).has(rel) && statSync(at, { throwIfNoEntry: false })?.isFile() === true;
    if (within(h, at) || (within(at, h) && !ownFile)) {
      throw new RiffError("RIFF_INVALID_RESOURCE", `${file}: spec.artifact: '${given}' ${within(at, h) ? "is inside" : "holds"} riff's home (${h}), where its token, secrets and data are`, {
        hint: "point spec.artifact (riff create --artifact) at your function's own file or folder, outside the riff home",
        details: { file, field: "spec.artifact" },
      });
    }
  }
  if (within(at, real(dirname(file)))) return undefined;
  return `${file}: spec.artifact '${given}' is outside this file's folder: the function can read every file of ${at}; move the code next to the YAML if that is not meant`;
}
