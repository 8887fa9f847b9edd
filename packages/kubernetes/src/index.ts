/**
 * riff on Kubernetes: riff's custom resources, the manifests of `riff system install
 * --kubernetes`, and the controller that reconciles Functions and Topics to Deployments and
 * streams with the same reconciler as the local and cluster modes.
 */
export * from "./manifests.js";
