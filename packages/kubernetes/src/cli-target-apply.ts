import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { RiffError } from "@riff/core";
import type { KubeTarget } from "./cli-target.js";
import { customResourceOf, type RiffDocument } from "./cli-target-resources.js";
import { uploadCode } from "./cli-target-upload.js";

/** One resource `riff apply` sent to Kubernetes. */
export interface AppliedResource {
  kind: "Function" | "Topic";
  name: string;
  /** `created` when no resource of that name was there, else `configured` (as kubectl says). */
  action: "created" | "configured";
  /** A Function's code digest in the cluster's store. */
  digest?: string;
}

/** A document read from a file, with the path its artifact is relative to. */
interface FileDocument {
  doc: RiffDocument;
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
  const results: AppliedResource[] = [];
  for (const { doc } of documents.filter((d) => d.doc.kind === "Topic")) {
    results.push({ kind: "Topic", name: doc.metadata.name, action: await applyOne(target, doc) });
  }
  const functions = documents.filter((d) => d.doc.kind === "Function");
  if (functions.length === 0) return results;
  const gateway = target.gateway();
  const token = await target.adminToken();
  for (const { doc, artifact } of functions) {
    const code = await uploadCode(gateway, token, artifact ?? ".");
    results.push({ kind: "Function", name: doc.metadata.name, action: await applyOne(target, doc, code), digest: code.digest });
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
    for (const { resource, document, line } of parseResources(text, file)) {
      if (resource.kind === "Invoker") {
        throw new RiffError("RIFF_INVALID_RESOURCE", `${file}:${line}: Invoker ${resource.metadata.name}: invokers are not applied on Kubernetes`, {
          hint: "functions there use riff's built-in invokers, or a ready image in spec.container.image",
          details: { file, line, field: "kind" },
        });
      }
      const spec = raw[document - 1]?.spec ?? {};
      const labels = raw[document - 1]?.metadata?.labels;
      const doc: RiffDocument = { kind: resource.kind, metadata: { name: resource.metadata.name, labels }, spec };
      const artifact = resource.kind === "Function" ? resolve(dirname(file), resource.spec.artifact) : undefined;
      out.push(artifact === undefined ? { doc } : { doc, artifact });
    }
  }
  return out;
}
