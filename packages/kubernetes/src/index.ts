/**
 * riff on Kubernetes: riff's custom resources, the manifests of `riff system install
 * --kubernetes`, and the controller that reconciles Functions and Topics to Deployments and
 * streams with the same reconciler as the local and cluster modes.
 */
export * from "./manifests.js";
export * from "./kube-api.js";
export * from "./kube-client.js";
export * from "./memory-kube-api.js";
export * from "./function-resource.js";
export * from "./function-source.js";
export * from "./deployment-host.js";
export * from "./kube-controller.js";
export * from "./lease.js";
export * from "./status.js";
export * from "./topic-sync.js";
