/**
 * The slice of Kubernetes' OpenAPI v3 schema dialect (JSONSchemaProps) that riff's CRDs use, and
 * small builders for its common nodes. Only keywords that Kubernetes 1.20 accepts in a structural
 * schema appear here: no CEL (`x-kubernetes-validations` arrived in 1.25), no `anyOf` with types.
 */

/** One node of a CRD's `openAPIV3Schema`. */
export interface OpenApiSchema {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  format?: string;
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema;
  items?: OpenApiSchema;
  required?: string[];
  enum?: (string | number)[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  minItems?: number;
  maxProperties?: number;
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-preserve-unknown-fields"?: true;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
}

/** A DNS-1123 label, the rule of every riff name (core's isValidName). */
export const DNS1123_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

/** A string node. */
export function str(description: string, extra: Omit<OpenApiSchema, "type" | "description"> = {}): OpenApiSchema {
  return { type: "string", description, ...extra };
}

/** An integer node, with optional bounds. */
export function int(description: string, minimum?: number, maximum?: number): OpenApiSchema {
  return {
    type: "integer",
    description,
    ...(minimum === undefined ? {} : { minimum }),
    ...(maximum === undefined ? {} : { maximum }),
  };
}

/** A riff name: a topic, invoker or secret. */
export function riffName(description: string): OpenApiSchema {
  return str(description, { pattern: DNS1123_LABEL, maxLength: 63 });
}

/** A string enum node. */
export function oneOf(description: string, values: string[]): OpenApiSchema {
  return str(description, { enum: values });
}

/**
 * A duration or size: riff writes `10000` or `10s`, `1073741824` or `1GiB`. Both are valid in one
 * node only as int-or-string; the controller parses the string with riff's own rules.
 */
export function intOrString(description: string): OpenApiSchema {
  return { description, "x-kubernetes-int-or-string": true };
}

/** An object node whose properties are all optional unless `required` names them. */
export function obj(description: string, properties: Record<string, OpenApiSchema>, required?: string[]): OpenApiSchema {
  return { type: "object", description, properties, ...(required === undefined ? {} : { required }) };
}

/** Kubernetes' standard `conditions` list: one entry per type, merged by type under server-side apply. */
export function conditions(): OpenApiSchema {
  return {
    type: "array",
    description: "The latest observations of the resource's state; `Ready` sums them up.",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    items: obj(
      "One condition (metav1.Condition).",
      {
        type: str("The condition's type, e.g. Ready.", { maxLength: 316 }),
        status: oneOf("True, False or Unknown.", ["True", "False", "Unknown"]),
        reason: str("A CamelCase word for programs, e.g. InvalidInput.", { maxLength: 1024 }),
        message: str("What happened, for people.", { maxLength: 32768 }),
        lastTransitionTime: str("When the status last changed.", { format: "date-time" }),
        observedGeneration: { type: "integer", format: "int64", minimum: 0, description: "The .metadata.generation the condition was set for." },
      },
      ["type", "status"],
    ),
  };
}

/** `status.observedGeneration`: the generation the controller last acted on. */
export function observedGeneration(): OpenApiSchema {
  return { type: "integer", format: "int64", minimum: 0, description: "The .metadata.generation the controller last reconciled." };
}
