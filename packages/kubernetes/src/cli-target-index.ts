/**
 * `@riff/kubernetes/cli-target`: what the riff CLI uses to act on a Kubernetes cluster, apart
 * from the controller (which the CLI never loads).
 */
export * from "./cli-target.js";
export * from "./cli-target-resources.js";
export * from "./cli-target-upload.js";
export * from "./cli-target-apply.js";
