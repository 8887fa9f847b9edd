/**
 * The Deployment that runs one Function custom resource: what the controller server-side-applies.
 * Its pods are riff daemons that join the riff cluster on NATS and run only this function, so a
 * pod behaves like a replica of local mode. The contract (names, labels, arguments) is relied on
 * by the controller and by the images' entry point; docs/kubernetes.md describes it.
 */
import type { FunctionSpec } from "@riff/core";
import { RIFF_GROUP, RIFF_VERSION } from "./crds.js";
import {
  CONTAINER_SECURITY_CONTEXT,
  daemonArgs,
  HEALTH_PROBES,
  HOME_MOUNT,
  HOME_VOLUME,
  HTTP_PORT,
  POD_NAME_ENV,
  POD_RIFF_HOME,
  riffLabels,
} from "./pod.js";
import type { InstallSettings } from "./settings.js";

/** The label that selects a function's pods. */
export const FUNCTION_LABEL = "projectriff.io/function";
/** The pod-template annotation whose change rolls a function's pods. */
export const REVISION_ANNOTATION = "projectriff.io/revision";

/**
 * A Function's spec after riff's functionSchema has checked it: durations in ms, memory in bytes,
 * cpu in cores. Plus the Kubernetes-only fields of the CRD.
 */
export interface FunctionCustomResourceSpec extends Omit<FunctionSpec, "resources"> {
  resources?: { memory?: number | undefined; cpu?: number | undefined; pids?: number | undefined } | undefined;
  /** The sha256 of the function's code in the riff cluster's code store. */
  digest?: string | undefined;
  /** A ready image holding the function at `artifact`. */
  container?: ({ image: string } & Record<string, unknown>) | undefined;
}

/** The parts of a Function custom resource the Deployment is made from. */
export interface FunctionCustomResource {
  metadata: { name: string; namespace?: string | undefined; uid: string; generation?: number | undefined };
  spec: FunctionCustomResourceSpec;
}

/** The environment variables riff sets; a user's `env` entry of the same name is left out. */
const RIFF_ENV = new Set(["POD_NAME", "RIFF_HOME", "RIFF_FUNCTION"]);

/** The image a function runs in: its own if it names one, else the invoker's. */
export function functionImage(spec: Pick<FunctionCustomResourceSpec, "invoker" | "container">, settings: InstallSettings): string {
  return spec.container?.image ?? `${settings.imagePrefix}/riff-invoker-${spec.invoker}:${settings.version}`;
}

/** Pod requests and limits from `spec.resources`, equal so the pod gets what riff promised. */
function podResources(resources: FunctionCustomResourceSpec["resources"]): Record<string, Record<string, string>> | undefined {
  const amounts: Record<string, string> = {};
  if (resources?.memory !== undefined) amounts["memory"] = String(Math.round(resources.memory));
  if (resources?.cpu !== undefined) amounts["cpu"] = `${Math.round(resources.cpu * 1000)}m`;
  // resources.pids has no counterpart: Kubernetes limits processes per node (kubelet's
  // podPidsLimit), not per container, so it is not expressible here.
  return Object.keys(amounts).length === 0 ? undefined : { requests: amounts, limits: { ...amounts } };
}

/**
 * The apps/v1 Deployment of `fn`. It never sets `spec.replicas`: riff's autoscaler owns the count
 * through the deployments/scale subresource, and a server-side apply without the field keeps it.
 */
export function functionDeployment(fn: FunctionCustomResource, settings: InstallSettings): object {
  const { name, namespace, uid, generation } = fn.metadata;
  const labels = { ...riffLabels("riff-function", name, "riff-controller"), [FUNCTION_LABEL]: name };
  const userEnv = Object.entries(fn.spec.env ?? {})
    .filter(([key]) => !RIFF_ENV.has(key))
    .map(([key, value]) => ({ name: key, value }));
  const resources = podResources(fn.spec.resources);
  // A fresh object: the shared constants would otherwise become YAML anchors, or be mutated.
  return structuredClone({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      labels,
      ownerReferences: [
        { apiVersion: `${RIFF_GROUP}/${RIFF_VERSION}`, kind: "Function", name, uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      selector: { matchLabels: { [FUNCTION_LABEL]: name } },
      // A new pod first, then an old one goes: the function keeps its replicas through a rollout.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: { [REVISION_ANNOTATION]: fn.spec.digest ?? String(generation ?? 0) } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 30,
          volumes: [HOME_VOLUME],
          containers: [
            {
              name: "function",
              image: functionImage(fn.spec, settings),
              args: daemonArgs(settings, name),
              env: [POD_NAME_ENV, { name: "RIFF_HOME", value: POD_RIFF_HOME }, { name: "RIFF_FUNCTION", value: name }, ...userEnv],
              ports: [HTTP_PORT],
              volumeMounts: [HOME_MOUNT],
              ...HEALTH_PROBES,
              ...(resources === undefined ? {} : { resources }),
              securityContext: CONTAINER_SECURITY_CONTEXT,
            },
          ],
        },
      },
    },
  });
}
