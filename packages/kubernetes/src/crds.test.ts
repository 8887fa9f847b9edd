import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// ajv is not a dependency of riff's own: kubernetes-models and cloudevents (both dev
// dependencies) bring it, and this test only needs a JSON Schema validator.
import { Ajv } from "ajv";
import { parseAllDocuments } from "yaml";
import { functionSchema, invokerSchema, topicSchema } from "@riff/core/validation";
import { riffCrds } from "./crds.js";
import type { OpenApiSchema } from "./openapi.js";

interface Crd {
  spec: {
    names: { kind: string; plural: string };
    subresources?: unknown;
    versions: { subresources: Record<string, unknown>; additionalPrinterColumns: { name: string; jsonPath: string }[]; schema: { openAPIV3Schema: OpenApiSchema } }[];
  };
}

const crds = riffCrds() as Crd[];
const byKind = new Map(crds.map((c) => [c.spec.names.kind, c]));
const schemaOf = (kind: string): OpenApiSchema => {
  const s = byKind.get(kind)?.spec.versions[0]?.schema.openAPIV3Schema;
  if (s === undefined) throw new Error(`no CRD for ${kind}`);
  return s;
};

/** The children of a schema node, with their paths. */
function children(node: OpenApiSchema, path: string): [OpenApiSchema, string][] {
  return [
    ...Object.entries(node.properties ?? {}).map(([k, v]): [OpenApiSchema, string] => [v, `${path}.${k}`]),
    ...(node.items === undefined ? [] : [[node.items, `${path}[]`] as [OpenApiSchema, string]]),
    ...(node.additionalProperties === undefined ? [] : [[node.additionalProperties, `${path}{}`] as [OpenApiSchema, string]]),
  ];
}

/** Why a schema is not structural (Kubernetes' rules, the part riff's schemas could break). */
function structuralProblems(node: OpenApiSchema, path = ""): string[] {
  const raw = node as Record<string, unknown>;
  const problems: string[] = [];
  const free = node["x-kubernetes-int-or-string"] === true || node["x-kubernetes-preserve-unknown-fields"] === true;
  if (node.type === undefined && !free) problems.push(`${path || "."}: no type`);
  for (const keyword of ["x-kubernetes-validations", "anyOf", "oneOf", "allOf", "not", "$ref", "default"]) {
    if (keyword in raw) problems.push(`${path}: ${keyword}`);
  }
  if (node.properties !== undefined && node.type !== "object") problems.push(`${path}: properties without type object`);
  return [...problems, ...children(node, path).flatMap(([child, p]) => structuralProblems(child, p))];
}

/**
 * The CRD schema as a JSON Schema ajv takes: int-or-string as a keyword, OpenAPI 3.0's boolean
 * exclusiveMinimum as draft-07's number, and objects closed unless they preserve unknown fields.
 * Closed, because the API server would prune an unknown field silently: a field an example uses
 * that the CRD lacks would be lost, not refused.
 */
function toJsonSchema(node: OpenApiSchema): Record<string, unknown> {
  const out: Record<string, unknown> = { ...node };
  if (node.exclusiveMinimum === true) {
    out["exclusiveMinimum"] = node.minimum;
    delete out["minimum"];
  }
  if (node.properties !== undefined) {
    out["properties"] = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toJsonSchema(v)]));
    if (node["x-kubernetes-preserve-unknown-fields"] !== true && node.additionalProperties === undefined) out["additionalProperties"] = false;
  }
  if (node.items !== undefined) out["items"] = toJsonSchema(node.items);
  if (node.additionalProperties !== undefined) out["additionalProperties"] = toJsonSchema(node.additionalProperties);
  return out;
}

function validator(kind: string) {
  const ajv = new Ajv({ allErrors: true, formats: { int64: true, "date-time": true } });
  ajv.addKeyword({ keyword: "x-kubernetes-int-or-string", validate: (_: unknown, data: unknown) => typeof data === "string" || Number.isInteger(data) });
  for (const keyword of ["x-kubernetes-preserve-unknown-fields", "x-kubernetes-list-type", "x-kubernetes-list-map-keys"]) ajv.addKeyword(keyword);
  return ajv.compile(toJsonSchema(schemaOf(kind)));
}

/** Every riff document in examples/, with its file. */
function exampleDocuments(): { file: string; doc: { kind: string; spec?: Record<string, unknown> } }[] {
  const root = join(import.meta.dirname, "../../../examples");
  const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => /\.ya?ml$/.test(f) && !f.includes("node_modules"));
  return files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(root, file), "utf8"))
      .flatMap((d) => ("toJS" in d ? [d.toJS() as { kind?: unknown } | null] : []))
      .filter((doc): doc is { kind: string } => doc !== null && ["Function", "Topic", "Invoker"].includes(String(doc.kind)))
      .map((doc) => ({ file, doc })),
  );
}

describe("riff's CRDs", () => {
  it("are structural: a type on every node but int-or-string and free-form ones; no CEL, no anyOf, no defaults", () => {
    for (const crd of crds) expect(structuralProblems(crd.spec.versions[0]?.schema.openAPIV3Schema ?? {})).toEqual([]);
    expect(JSON.stringify(crds)).not.toContain("x-kubernetes-validations");
  });

  it("have riff's own spec fields, the same as riff apply takes (core's zod schemas)", () => {
    const fields = (kind: string) => Object.keys(schemaOf(kind).properties?.["spec"]?.properties ?? {}).sort();
    expect(fields("Function")).toEqual([...Object.keys(functionSchema.shape.spec.shape), "digest", "container"].sort());
    expect(fields("Topic")).toEqual(Object.keys(topicSchema.shape.spec.unwrap().shape).sort());
    expect(fields("Invoker")).toEqual(Object.keys(invokerSchema.shape.spec.shape).sort());
    expect(schemaOf("Function").properties?.["spec"]?.required).toEqual(["invoker", "input", "artifact"]);
  });

  it("give a status subresource and no scale subresource: the autoscaler owns the Deployment's replicas", () => {
    for (const crd of crds) expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
  });

  it("print the columns kubectl get shows", () => {
    const columns = (kind: string) => byKind.get(kind)?.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name);
    expect(columns("Function")).toEqual(["Invoker", "Input", "Output", "Replicas", "Ready", "Lag", "Age"]);
    expect(columns("Topic")).toEqual(["Partitions", "Replicas", "Ready", "Age"]);
  });

  it("take every riff example under examples/, unchanged (nothing would be pruned)", () => {
    const docs = exampleDocuments();
    expect(docs.length).toBeGreaterThanOrEqual(15);
    const validators = new Map(["Function", "Topic", "Invoker"].map((k) => [k, validator(k)]));
    for (const { file, doc } of docs) {
      const validate = validators.get(doc.kind);
      const ok = validate?.(doc);
      expect({ file, errors: ok === true ? null : validate?.errors }).toEqual({ file, errors: null });
    }
  });

  it("refuse what riff refuses, where OpenAPI can say it", () => {
    const validate = validator("Function");
    const base = { apiVersion: "projectriff.io/v1alpha1", kind: "Function", metadata: { name: "f" } };
    const spec = { invoker: "node", input: "in", artifact: "f.js" };
    const accepts = (extra: Record<string, unknown>) => validate({ ...base, spec: { ...spec, ...extra } });
    expect(accepts({ input: ["a", "b"], idleTimeoutMs: "10s", timeoutMs: 5000, resources: { memory: "512Mi", cpu: 0.5 } })).toBe(true);
    expect(accepts({ container: { image: "me/f:1", imagePullPolicy: "Always" }, digest: "0".repeat(64) })).toBe(true);
    expect(accepts({ bogus: 1 })).toBe(false);
    expect(accepts({ maxReplicas: 0 })).toBe(false);
    expect(accepts({ ordering: "random" })).toBe(false);
    expect(accepts({ idleTimeoutMs: 1.5 })).toBe(false);
    expect(accepts({ digest: "sha256:abc" })).toBe(false);
    expect(accepts({ container: { imagePullPolicy: "Always" } })).toBe(false);
    expect(accepts({ output: "Not_A_Name" })).toBe(false);
    expect(validate({ ...base, spec: { invoker: "node", artifact: "f.js" } })).toBe(false);
    expect(validator("Topic")({ kind: "Topic", spec: { replicas: 2 } })).toBe(false);
    expect(validator("Topic")({ kind: "Topic", spec: { rate: 0 } })).toBe(false);
  });
});
