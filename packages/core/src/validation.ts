// Separate entry point: zod and yaml cost tens of milliseconds to load, which the replicas and
// most CLI commands must not pay.
export * from "./schema.js";
export * from "./parse.js";
export * from "./riff-yaml.js";
export { firstProblem } from "./parse-issues.js";
