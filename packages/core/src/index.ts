// The light face of core: no third-party imports, so replicas and the CLI start fast.
// Schemas and YAML parsing (zod, yaml) live behind "@riff/core/validation".
export * from "./errors.js";
export * from "./headers.js";
export * from "./dead-letters.js";
export * from "./duration.js";
export * from "./logger.js";
export * from "./names.js";
export * from "./nodes.js";
export * from "./resources.js";
export * from "./topology.js";
export * from "./telemetry.js";
export * from "./token-buckets.js";
