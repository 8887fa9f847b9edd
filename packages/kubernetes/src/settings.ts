/**
 * What every generated manifest depends on: where NATS is, the riff cluster's name, and where the
 * images come from. One type for the controller (which renders function Deployments) and for
 * `riff system install --kubernetes` (which renders everything else), so both agree.
 */

/** Settings shared by the install manifests and the function Deployments. */
export interface InstallSettings {
  /** The NATS JetStream URL the riff daemons join. */
  natsUrl: string;
  /** The riff cluster's name on NATS (several riff clusters may share NATS servers). */
  clusterName: string;
  /** Images are `<imagePrefix>/riff:<version>` and `<imagePrefix>/riff-invoker-<name>:<version>`. */
  imagePrefix: string;
  /** The images' tag. */
  version: string;
}

/** The Namespace riff's own workloads (controller, gateway, NATS) run in. */
export const RIFF_SYSTEM_NAMESPACE = "riff-system";

/** @default the in-cluster NATS that `riff system install --kubernetes` creates. */
export const DEFAULT_NATS_URL = `nats://riff-nats.${RIFF_SYSTEM_NAMESPACE}.svc:4222`;

/**
 * The defaults. `version` is riff's version (the root package.json's, 0.1.0) as a constant:
 * this module reads no files, and the CLI's VERSION is the same constant.
 */
export const DEFAULT_INSTALL_SETTINGS: Readonly<InstallSettings> = Object.freeze({
  natsUrl: DEFAULT_NATS_URL,
  clusterName: "riff",
  imagePrefix: "riff",
  version: "0.1.0",
});
