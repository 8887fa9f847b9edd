import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { dockerfileNextTo } from "@riff/controller";
import type { KubeTarget } from "./cli-target.js";
import { customResourceOf, type RiffDocument } from "./cli-target-resources.js";
import { uploadCode } from "./cli-target-upload.js";

/** One resource `riff apply` sent to Kubernetes. */
export interface AppliedResource {
  kind: RiffDocument["kind"];
  name: string;
  /** `created` when no resource of that name was there, else `configured` (as kubectl says). */
  action: "created" | "configured";
  /** A Function's code digest in the cluster's store. */
  digest?: string;
  /** Fields of Project riff's YAML with no meaning here, each with what riff does instead. */
  warnings?: string[];
}

/** A document read from a file, with the path its artifact is relative to. */
interface FileDocument {
  doc: RiffDocument;
  warnings: string[];
  /** A Function's code, as an absolute path on this machine. */
  artifact?: string;
}

/**
 * `riff apply` on Kubernetes: every file is parsed and checked with riff's own schema first (a
 * mistake is named at its file and line before anything changes); then Topics are applied,
 * then each Function's code is uploaded through the gateway and its resource applied with the
 * digest. The spec sent is the document's own, as `kubectl apply` would send it.
 */
export async function applyToKubernetes(target: KubeTarget, files: string[], dryRun: boolean): Promise<AppliedResource[]> {
  const documents = await readDocuments(files);
  if (dryRun) return [];
  const functions = documents.filter((d) => d.doc.kind === "Function");
  // What the functions' code needs is checked before anything is applied.
  const gateway = functions.length === 0 ? "" : target.gateway();
  const token = functions.length === 0 ? "" : await target.adminToken();
  const results: AppliedResource[] = [];
  // Invokers and topics first: a function in the same apply may name them.
  for (const kind of ["Invoker", "Topic"] as const) {
    for (const { doc, warnings } of documents.filter((d) => d.doc.kind === kind)) results.push({ kind, name: doc.metadata.name, action: await applyOne(target, doc), warnings });
  }
  for (const { doc, artifact, warnings } of functions) {
    const code = await uploadCode(gateway, token, artifact ?? ".");
    results.push({ kind: "Function", name: doc.metadata.name, action: await applyOne(target, doc, code), digest: code.digest, warnings });
  }
  return results;
}

async function applyOne(target: KubeTarget, doc: RiffDocument, code?: { digest: string; entry: string }): Promise<AppliedResource["action"]> {
  const existed = (await target.get(doc.kind, doc.metadata.name)) !== undefined;
  await target.apply(customResourceOf(doc, target.namespace, code));
  return existed ? "configured" : "created";
}

async function readDocuments(files: string[]): Promise<FileDocument[]> {
  const { parseResources } = await import("@riff/core/validation");
  const { parseAllDocuments } = await import("yaml");
  const out: FileDocument[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const raw = parseAllDocuments(text).map((d) => d.toJS() as { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> } | null);
    // Project riff's Function documents name their invoker in the Dockerfile next to them.
    for (const { resource, document, warnings } of parseResources(text, file, dockerfileNextTo(file))) {
      // riff's own resources go as written; Project riff's (converted, with warnings) as riff
      // read them: the CRD has no place for their grpc protocol or build image.
      const spec = warnings.length > 0 ? (resource.spec as Record<string, unknown>) : (raw[document - 1]?.spec ?? {});
      const labels = raw[document - 1]?.metadata?.labels;
      const doc: RiffDocument = { kind: resource.kind, metadata: { name: resource.metadata.name, labels }, spec };
      const artifact = resource.kind === "Function" ? resolve(dirname(file), resource.spec.artifact) : undefined;
      out.push(artifact === undefined ? { doc, warnings } : { doc, warnings, artifact });
    }
  }
  return out;
}
