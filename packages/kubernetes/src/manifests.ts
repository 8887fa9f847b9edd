/**
 * The generated side of riff on Kubernetes, pure and IO-free: the CRDs, the function Deployment,
 * the install manifests and the Dockerfiles. A subpath of its own ("@riff/kubernetes/manifests")
 * so the CLI can render them without loading the Kubernetes client library.
 */
export { riffCrds, RIFF_GROUP, RIFF_VERSION } from "./crds.js";
export type { OpenApiSchema } from "./openapi.js";
export {
  functionDeployment,
  functionImage,
  FUNCTION_LABEL,
  REVISION_ANNOTATION,
  type FunctionCustomResource,
  type FunctionCustomResourceSpec,
} from "./deployment.js";
export { installManifests, resolveInstallSettings, ADMIN_SECRET, type InstallOptions } from "./install.js";
export { natsConfig, natsManifests, NATS_IMAGE, NATS_SERVERS } from "./nats.js";
export { invokerDockerfiles, INVOKER_PACKAGES, type DockerfileOptions } from "./dockerfiles.js";
export { DEFAULT_INSTALL_SETTINGS, DEFAULT_NATS_URL, RIFF_SYSTEM_NAMESPACE, type InstallSettings } from "./settings.js";
export { DAEMON_PORT, POD_RIFF_HOME } from "./pod.js";
