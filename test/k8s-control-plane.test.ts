// The test control plane (scripts/k8s-control-plane.sh) is a real Kubernetes: its API server
// serves and watches custom resources, its controllers and scheduler run Deployments onto the
// hollow node, and its garbage collector follows ownerReferences. Hollow pods have fake IPs:
// nothing here dials a pod or Service.
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startControlPlane, type ControlPlane } from "./helpers/kube.js";
import { until } from "./helpers/until.js";

const GROUP = "k8s-test.riff.invalid";
const NAMESPACE = "riff-k8s-test";

const crd: V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["size"],
                // client-node spells `default` as `_default` (its serializer writes `default`).
                properties: { size: { type: "integer", minimum: 1 }, colour: { type: "string", _default: "red" } },
              },
            },
          },
        },
      },
    ],
  },
};

/** The HTTP status of a client-node error (ApiException's `code`). */
function statusOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe("the test control plane", () => {
  let plane: ControlPlane;
  let kc: KubeConfig;

  beforeAll(async () => {
    plane = await startControlPlane();
    kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NAMESPACE } } });
  }, 240_000);

  afterAll(async () => {
    await plane?.stop();
  });

  it("establishes a CRD, and creates and watches its custom objects", async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const objects = kc.makeApiClient(CustomObjectsApi);
    await ext.createCustomResourceDefinition({ body: crd });
    await until(
      "the CRD Established",
      async () => (await ext.readCustomResourceDefinition({ name: crd.metadata!.name! })).status?.conditions?.some((c) => c.type === "Established" && c.status === "True"),
      30_000,
    );

    // The schema is enforced: a size below its minimum is refused (422) with the field's path.
    const refused = await objects
      .createNamespacedCustomObject({ group: GROUP, version: "v1", namespace: NAMESPACE, plural: "widgets", body: { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name: "tiny" }, spec: { size: 0 } } })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(statusOf(refused)).toBe(422);
    expect(String((refused as { body?: unknown }).body)).toContain("spec.size");

    // A watch from the (empty) list's resourceVersion sees the object added, defaulted, then modified.
    const list = (await objects.listNamespacedCustomObject({ group: GROUP, version: "v1", namespace: NAMESPACE, plural: "widgets" })) as { metadata: { resourceVersion: string } };
    const events: { type: string; name: string; size: number; colour: string }[] = [];
    let watchEnded: unknown = null;
    const watch = await new Watch(kc).watch(
      `/apis/${GROUP}/v1/namespaces/${NAMESPACE}/widgets`,
      { resourceVersion: list.metadata.resourceVersion },
      (type, obj: { metadata: { name: string }; spec: { size: number; colour: string } }) => events.push({ type, name: obj.metadata.name, size: obj.spec.size, colour: obj.spec.colour }),
      (err) => (watchEnded = err ?? "ended"),
    );
    try {
      const created = (await objects.createNamespacedCustomObject({
        group: GROUP,
        version: "v1",
        namespace: NAMESPACE,
        plural: "widgets",
        body: { apiVersion: `${GROUP}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
      })) as { spec: { colour: string } };
      expect(created.spec.colour).toBe("red");
      await objects.patchNamespacedCustomObject(
        { group: GROUP, version: "v1", namespace: NAMESPACE, plural: "widgets", name: "w1", body: { spec: { size: 5 } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      await until("the watch to see w1 added, then modified", () => events.length >= 2 || watchEnded !== null, 30_000);
      expect(watchEnded).toBeNull();
      expect(events).toEqual([
        { type: "ADDED", name: "w1", size: 3, colour: "red" },
        { type: "MODIFIED", name: "w1", size: 5, colour: "red" },
      ]);
    } finally {
      watch.abort();
    }
  });

  it("runs a Deployment's 2 replicas on the hollow node, and garbage-collects its ReplicaSet and pods when it is deleted", async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const labels = { app: "hello" };
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: "hello" },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          // The hollow kubelet's fake runtime "pulls" and "runs" any image.
          template: { metadata: { labels }, spec: { containers: [{ name: "main", image: "riff-test/hello:1" }] } },
        },
      },
    });
    const running = await until(
      "2 pods Running on the hollow node",
      async () => {
        const pods = (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app=hello" })).items;
        const up = pods.filter((p) => p.status?.phase === "Running" && p.spec?.nodeName === "hollow-node-0");
        return up.length === 2 && pods.length === 2 ? up : undefined;
      },
      60_000,
    );
    expect(running).toHaveLength(2);

    // The chain of owners: pods -> ReplicaSet -> Deployment.
    const deployment = await apps.readNamespacedDeployment({ namespace: NAMESPACE, name: "hello" });
    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace: NAMESPACE, labelSelector: "app=hello" })).items;
    expect(replicaSets).toHaveLength(1);
    expect(replicaSets[0]!.metadata?.ownerReferences?.map((o) => [o.kind, o.uid])).toEqual([["Deployment", deployment.metadata?.uid]]);
    for (const pod of running) expect(pod.metadata?.ownerReferences?.map((o) => [o.kind, o.uid])).toEqual([["ReplicaSet", replicaSets[0]!.metadata?.uid]]);

    // Deleting the Deployment alone (background propagation): the garbage collector deletes the rest.
    await apps.deleteNamespacedDeployment({ namespace: NAMESPACE, name: "hello", propagationPolicy: "Background" });
    await until(
      "the ReplicaSet and pods garbage-collected",
      async () => {
        const rs = (await apps.listNamespacedReplicaSet({ namespace: NAMESPACE, labelSelector: "app=hello" })).items;
        const pods = (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app=hello" })).items;
        return rs.length === 0 && pods.length === 0;
      },
      90_000,
    );
  }, 180_000);
});
