/**
 * riff's CustomResourceDefinitions: Function, Topic and Invoker in `projectriff.io/v1alpha1`.
 * The spec fields are the ones `riff apply` takes locally (core's schema.ts), so one YAML file
 * applies both ways. The schemas are structural and use OpenAPI keywords only, so they behave the
 * same on Kubernetes 1.20 (the control plane riff's tests run) and on current clusters. What
 * OpenAPI cannot say (an input that is a name or a list, output ≠ input, durations like `10s`)
 * the controller checks and reports as a status condition.
 */
import { API_VERSION, MAX_RETRIES } from "@riff/core";
import { conditions, int, intOrString, obj, observedGeneration, oneOf, riffName, str, type OpenApiSchema } from "./openapi.js";

/** The API group of riff's resources. */
export const RIFF_GROUP = "projectriff.io";
/** The one version riff serves. */
export const RIFF_VERSION = "v1alpha1";

/** The spec of a Function custom resource: riff's own fields, then the Kubernetes-only ones. */
const functionSpec = obj(
  "What to run and on which topics: the same fields as `riff apply` takes locally.",
  {
    invoker: riffName("The language: node, python3, java, go, command, command-lines, or an Invoker's name."),
    // Structural schemas cannot say "string or array": the controller checks this node.
    input: { description: "The input topic, or a list of them.", "x-kubernetes-preserve-unknown-fields": true },
    output: riffName("The topic replies are written to."),
    handler: str("The function's entry point within the artifact.", { minLength: 1 }),
    artifact: str("The file or folder holding the function, relative to its code (or to the image's working directory).", { minLength: 1 }),
    // No default: the effective maximum depends on the input's partitions and goes to status.
    maxReplicas: int("Most replicas the autoscaler runs (the effective one is in status.maxReplicas).", 1),
    minReplicas: int("Fewest replicas the autoscaler keeps, even when idle.", 0),
    idleTimeoutMs: intOrString("How long without a message before replicas stop: milliseconds or a duration such as 10s."),
    timeoutMs: intOrString("Longest time for one message: milliseconds or a duration such as 1m (at most 24d)."),
    concurrency: int("Messages one replica works on at once.", 1, 1024),
    ordering: oneOf("partition: each partition's messages one at a time, in order; none: in parallel.", ["partition", "none"]),
    allowCycle: { type: "boolean", description: "Permits a cycle in the topic graph through this function, on purpose." },
    replyFrom: oneOf("self: /requests callers get this function's reply; end: the pipeline's last one.", ["self", "end"]),
    retries: int("Runs again of a message the function failed on, before it goes to the dead-letter topic.", 0, MAX_RETRIES),
    deadLetter: riffName("The dead-letter topic (default <name>-dead-letters)."),
    env: {
      type: "object",
      description: "Environment variables of the function's replicas (settings, not secrets).",
      additionalProperties: { type: "string" },
    },
    resources: obj("What each replica may use; becomes the pod's requests and limits.", {
      memory: intOrString("Bytes, or 512Mi / 1Gi / 512MiB."),
      // int-or-string would refuse `cpu: 0.5` (a number, not an integer), which riff's YAML allows.
      cpu: { description: "Cores: 0.5, 2 or 500m.", "x-kubernetes-preserve-unknown-fields": true },
      pids: int("Most processes and threads (not enforced on Kubernetes: a pod has no per-container pids limit).", 8, 65536),
    }),
    network: oneOf("host: the pod's network; none: loopback only (not enforced on Kubernetes).", ["host", "none"]),
    secrets: { type: "array", description: "Secrets whose keys become environment variables.", items: riffName("A secret's name.") },
    // riff names code by the first 16 hex digits of its sha256 (artifactDigest); a whole one is taken too.
    digest: str("The content digest (sha256, hex, 16 to 64 digits) of the function's code in the riff cluster's code store, set by `riff create/apply --kubeconfig` after uploading.", {
      pattern: "^[a-f0-9]{16,64}$",
    }),
    container: {
      type: "object",
      description: "A ready image holding the function at `artifact` (then no digest is needed); other container fields are kept as given.",
      "x-kubernetes-preserve-unknown-fields": true,
      properties: { image: str("The image.", { minLength: 1 }) },
      required: ["image"],
    },
  },
  ["invoker", "input", "artifact"],
);

const functionStatus = obj("What the controller observed.", {
  observedGeneration: observedGeneration(),
  conditions: conditions(),
  replicas: int("Replicas the Deployment has.", 0),
  readyReplicas: int("Replicas ready to take messages.", 0),
  maxReplicas: int("The effective maximum: spec.maxReplicas, at most the input's partitions.", 0),
  lag: { type: "integer", format: "int64", minimum: 0, description: "Messages waiting on the input topics." },
  revision: int("The revision of the function's code and settings the pods run.", 0),
});

const topicSpec = obj("The topic's partitions, retention and durability: the same fields as `riff apply` takes locally.", {
  partitions: int("Partitions: the most replicas a function reading the topic can use (up only).", 1, 1024),
  retentionMs: intOrString("How long messages are kept: milliseconds or a duration such as 7d."),
  retentionBytes: intOrString("How much is kept: bytes or a size such as 1GiB."),
  durability: oneOf("process: survives a crash of riff; fsync: also power loss.", ["process", "fsync"]),
  replicas: { type: "integer", enum: [1, 3], description: "Copies of each message on the NATS servers: 1 or 3." },
  rate: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 1_000_000, description: "Publishes per second through the gateway." },
});

const topicStatus = obj("What the controller observed.", {
  observedGeneration: observedGeneration(),
  conditions: conditions(),
  stream: str("The broker's stream holding the topic."),
  partitions: int("Partitions the stream has.", 0),
});

const invokerSpec = obj(
  "How to run functions of a language riff does not ship.",
  {
    description: str("One line for `riff invokers list`."),
    command: { type: "array", description: "The command a replica runs; {{artifact}} and {{handler}} are filled in.", minItems: 1, items: str("One argument.", { minLength: 1 }) },
    protocol: oneOf("How riff talks to the command.", ["frames", "http", "lines", "exec"]),
    matchers: { type: "array", description: "File globs that pick this invoker for an artifact.", minItems: 1, items: str("A glob.", { minLength: 1 }) },
    handler: obj("The handler's default and what it means.", { default: str("The default handler.", { minLength: 1 }), description: str("What a handler is.") }),
    concurrency: int("Messages one replica works on at once.", 1, 1024),
  },
  ["command", "protocol"],
);

const invokerStatus = obj("What the controller observed.", { observedGeneration: observedGeneration(), conditions: conditions() });

/** A column of `kubectl get`. */
interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date";
  jsonPath: string;
  description?: string;
}

const READY: PrinterColumn = { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' };
const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

/** What differs between riff's three kinds. */
interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  spec: OpenApiSchema;
  status: OpenApiSchema;
  /** Whether a document may leave out `spec` (a Topic may: every field has a default). */
  specRequired: boolean;
  columns: PrinterColumn[];
}

/** A CustomResourceDefinition of one riff kind. */
function crd(d: KindDefinition): object {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${d.plural}.${RIFF_GROUP}`, labels: { "app.kubernetes.io/part-of": "riff" } },
    spec: {
      group: RIFF_GROUP,
      scope: "Namespaced",
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.kind.toLowerCase(), shortNames: d.shortNames, categories: ["riff"] },
      versions: [
        {
          name: RIFF_VERSION,
          served: true,
          storage: true,
          // Status only: riff's autoscaler owns the replica count on the Deployment, so a
          // scale subresource here would give `kubectl scale` a number nobody reads.
          subresources: { status: {} },
          additionalPrinterColumns: [...d.columns, AGE],
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: `A riff ${d.kind} (${API_VERSION}).`,
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: d.spec,
                status: d.status,
              },
              ...(d.specRequired ? { required: ["spec"] } : {}),
            },
          },
        },
      ],
    },
  };
}

/** The CRDs of Function, Topic and Invoker, in that order: fresh objects each call, a caller may change them. */
export function riffCrds(): object[] {
  return structuredClone([
    crd({
      kind: "Function",
      plural: "functions",
      shortNames: ["fn"],
      spec: functionSpec,
      status: functionStatus,
      specRequired: true,
      columns: [
        { name: "Invoker", type: "string", jsonPath: ".spec.invoker" },
        { name: "Input", type: "string", jsonPath: ".spec.input" },
        { name: "Output", type: "string", jsonPath: ".spec.output" },
        { name: "Replicas", type: "integer", jsonPath: ".status.replicas" },
        READY,
        { name: "Lag", type: "integer", jsonPath: ".status.lag" },
      ],
    }),
    crd({
      kind: "Topic",
      plural: "topics",
      shortNames: ["tp"],
      spec: topicSpec,
      status: topicStatus,
      specRequired: false,
      columns: [
        // The stream's partitions, not spec's: a Topic may leave them out (default 1).
        { name: "Partitions", type: "integer", jsonPath: ".status.partitions" },
        { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
        READY,
      ],
    }),
    crd({
      kind: "Invoker",
      plural: "invokers",
      shortNames: ["inv"],
      spec: invokerSpec,
      status: invokerStatus,
      specRequired: true,
      columns: [{ name: "Protocol", type: "string", jsonPath: ".spec.protocol" }, READY],
    }),
  ]);
}
