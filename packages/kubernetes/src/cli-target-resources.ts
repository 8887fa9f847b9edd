/**
 * What `riff create/apply/list/describe` send to and read from Kubernetes, as pure functions:
 * riff's YAML documents turned into `projectriff.io/v1alpha1` custom resources, and those
 * resources (with the controller's status) turned into the rows and lines the CLI prints.
 */

/** The API group and version of riff's custom resources. */
export const RIFF_API_VERSION = "projectriff.io/v1alpha1";
/** Who owns the fields the CLI applies (server-side apply). */
export const CLI_FIELD_MANAGER = "riff-cli";

/** A riff resource as its YAML says it (kind, name, spec). */
export interface RiffDocument {
  kind: "Function" | "Topic" | "Invoker";
  metadata: { name: string; labels?: Record<string, string> | undefined };
  spec: Record<string, unknown>;
}

/** A custom resource as the apiserver stores it. */
export interface CustomResource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string | undefined; labels?: Record<string, string> | undefined; generation?: number | undefined };
  spec?: Record<string, unknown> | undefined;
  status?: Record<string, unknown> | undefined;
}

/** Where a function's code went: its digest in the cluster's store, and the file's name ("" for a folder). */
export interface UploadedCode {
  digest: string;
  entry: string;
}

/**
 * The custom resource of a riff document. A Function's `spec.artifact` becomes what the code
 * in the store is (`.` for a folder, else the file's name) and `spec.digest` names it there:
 * the apiserver's copy must not point at a path on the user's machine.
 */
export function customResourceOf(doc: RiffDocument, namespace: string, code?: UploadedCode): CustomResource {
  const spec: Record<string, unknown> = { ...doc.spec };
  if (doc.kind === "Function") {
    if (code === undefined) throw new Error(`function ${doc.metadata.name}: its code must be uploaded first`);
    spec["artifact"] = code.entry === "" ? "." : code.entry;
    spec["digest"] = code.digest;
  }
  return {
    apiVersion: RIFF_API_VERSION,
    kind: doc.kind,
    metadata: { name: doc.metadata.name, namespace, ...(doc.metadata.labels === undefined ? {} : { labels: doc.metadata.labels }) },
    spec,
  };
}

/** One condition of a resource's status, as Kubernetes writes them. */
export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** A function as `riff list` shows it on Kubernetes. */
export interface FunctionRow {
  name: string;
  inputs: string[];
  output: string | undefined;
  replicas: number;
  ready: string;
  lag: number | undefined;
  reason: string | undefined;
}

/** The row of a Function custom resource; a resource the controller has not seen yet is `Unknown`. */
export function functionRow(cr: CustomResource): FunctionRow {
  const spec = cr.spec ?? {};
  const status = cr.status ?? {};
  const ready = conditionsOf(cr).find((c) => c.type === "Ready");
  const input = spec["input"];
  return {
    name: cr.metadata.name,
    inputs: Array.isArray(input) ? input.map(String) : typeof input === "string" ? [input] : [],
    output: typeof spec["output"] === "string" ? spec["output"] : undefined,
    replicas: typeof status["replicas"] === "number" ? status["replicas"] : 0,
    ready: ready?.status ?? "Unknown",
    lag: typeof status["lag"] === "number" ? status["lag"] : undefined,
    reason: ready?.status === "True" ? undefined : ready?.message ?? ready?.reason,
  };
}

/** The status's conditions, whatever the controller wrote (a missing list is none). */
export function conditionsOf(cr: CustomResource): Condition[] {
  const list = cr.status?.["conditions"];
  if (!Array.isArray(list)) return [];
  return list.filter((c): c is Condition => typeof c === "object" && c !== null && typeof (c as Condition).type === "string" && typeof (c as Condition).status === "string");
}

/** `riff describe function NAME` on Kubernetes: spec, status and conditions, for people. */
export function describeLines(cr: CustomResource): string[] {
  const row = functionRow(cr);
  const spec = cr.spec ?? {};
  const status = cr.status ?? {};
  const lines = [
    `function ${cr.metadata.name} (namespace ${cr.metadata.namespace ?? "default"}, generation ${cr.metadata.generation ?? "?"}): ready ${row.ready}`,
    `  invoker ${String(spec["invoker"] ?? "?")}, artifact ${String(spec["artifact"] ?? "?")}, code ${String(spec["digest"] ?? "(none)")}`,
    `  input ${row.inputs.join(", ")}${row.output === undefined ? "" : `, output ${row.output}`}`,
    `  replicas ${row.replicas}${typeof status["maxReplicas"] === "number" ? ` (at most ${status["maxReplicas"]})` : ""}, lag ${row.lag ?? "unknown"}`,
  ];
  const observed = status["observedGeneration"];
  if (typeof observed === "number" && observed !== cr.metadata.generation) lines.push(`  the controller has seen generation ${observed} only`);
  const conditions = conditionsOf(cr);
  lines.push(conditions.length === 0 ? "conditions: none yet (is riff's controller running?)" : "conditions:");
  for (const c of conditions) {
    lines.push(`  ${c.type}=${c.status}${c.reason === undefined ? "" : ` ${c.reason}`}${c.message === undefined ? "" : `: ${c.message}`}${c.lastTransitionTime === undefined ? "" : ` (since ${c.lastTransitionTime})`}`);
  }
  return lines;
}
