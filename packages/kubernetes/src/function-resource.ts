import { posix } from "node:path";
import { firstProblem, functionSchema } from "@riff/core/validation";
import { API_VERSION, withFunctionDefaults, type FunctionResource } from "@riff/core";
import { IMAGE_DIGEST_PREFIX, type StoredFunction } from "@riff/controller";
import { builtinInvokers } from "@riff/runtime";
import type { FunctionCustomResource } from "./deployment.js";
import type { KubeObject } from "./kube-api.js";

/** The Kubernetes-only fields of a Function's spec, besides riff's own. */
export interface KubeFunctionExtras {
  /** sha256 (hex) of the function's code in the riff cluster's code store. */
  digest?: string | undefined;
  /** A ready image holding the function at `spec.artifact`. */
  container?: { image: string } | undefined;
}

/** A Function custom resource turned into what riff's stores keep, or why it cannot be. */
export type Conversion =
  | { ok: true; fn: StoredFunction; extras: KubeFunctionExtras; resource: FunctionCustomResource }
  | { ok: false; reason: "InvalidSpec" | "CodeMissing" | "ImageMissing"; message: string };

/**
 * Reads a Function custom resource with riff's own schema (the one `riff apply` uses), so a
 * document means the same on one machine and on Kubernetes. The apiserver has checked what a
 * structural schema can; this checks the rest (`input` as a name or a list, durations, the
 * invoker) and names the field at fault.
 */
/** Finds an invoker by name: built in, or declared by an Invoker resource. */
export type InvokerLookup = (name: string) => { defaultConcurrency: number } | undefined;

const builtinLookup: InvokerLookup = (name) => builtinInvokers.get(name);

export function toStoredFunction(cr: KubeObject, invokers: InvokerLookup = builtinLookup): Conversion {
  const spec = { ...(cr.spec ?? {}) };
  const extras: KubeFunctionExtras = { digest: spec["digest"] as string | undefined, container: spec["container"] as { image: string } | undefined };
  delete spec["digest"];
  delete spec["container"];
  const doc = { apiVersion: API_VERSION, kind: "Function", metadata: { name: cr.metadata.name, ...(cr.metadata.labels === undefined ? {} : { labels: cr.metadata.labels }) }, spec };
  const parsed = functionSchema.safeParse(doc);
  if (!parsed.success) return { ok: false, reason: "InvalidSpec", message: firstProblem(parsed.error.issues, doc, functionSchema) };
  const resource = parsed.data as unknown as FunctionResource;
  const invoker = invokers(resource.spec.invoker);
  if (invoker === undefined) {
    return { ok: false, reason: "InvalidSpec", message: `spec.invoker: unknown invoker '${resource.spec.invoker}' (built in: ${[...builtinInvokers.keys()].join(", ")}); declare it with an Invoker resource` };
  }
  if (!builtinInvokers.has(resource.spec.invoker) && extras.container === undefined) {
    return {
      ok: false,
      reason: "ImageMissing",
      message: `spec.container.image: invoker '${resource.spec.invoker}' is not built into riff, and riff ships images for its built-in invokers only; set spec.container.image to an image of yours that holds the invoker's command`,
    };
  }
  if (extras.digest === undefined && extras.container === undefined) {
    return {
      ok: false,
      reason: "CodeMissing",
      message: "the function's code is not in the cluster: set spec.digest (riff create/apply --kubeconfig uploads the code and sets it) or spec.container.image",
    };
  }
  const artifact = resource.spec.artifact;
  const resolved = withFunctionDefaults(resource, { artifact, source: undefined, defaultConcurrency: invoker.defaultConcurrency });
  const generation = cr.metadata.generation ?? 1;
  const created = cr.metadata.creationTimestamp ?? new Date(0).toISOString();
  const uid = cr.metadata.uid ?? "";
  return {
    ok: true,
    extras,
    // The spec as riff read it (durations in ms, sizes in bytes), for the Deployment.
    resource: { metadata: { name: cr.metadata.name, namespace: cr.metadata.namespace, uid, generation }, spec: { ...(resource.spec as FunctionCustomResource["spec"]), ...extras } },
    fn: {
      ...resolved,
      revision: generation,
      digest: extras.digest ?? `${IMAGE_DIGEST_PREFIX}${extras.container?.image ?? ""}`,
      // A folder (".", "dir/") is the artifact itself; a file is found by its name in the code.
      entry: artifact === "." || artifact.endsWith("/") ? "" : posix.basename(artifact),
      createdAt: created,
      updatedAt: created,
    },
  };
}
