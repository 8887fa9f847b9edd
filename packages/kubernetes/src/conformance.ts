/**
 * What riff's controller relies on from the Kubernetes API, as a vitest suite: run against the
 * real kube-apiserver and against {@link MemoryKubeApi}, so the fake used in fast tests cannot
 * drift from the real thing. Exposed as `@riff/kubernetes/conformance` only, so production code
 * never loads vitest.
 */
import { describe, expect, it } from "vitest";
import { apiVersionOf, DEPLOYMENTS, FUNCTIONS, kubeStatus, LEASES, type KubeApi, type KubeObject, type WatchEvent } from "./kube-api.js";

/** A fresh API and an existing namespace to work in (one per test run; names are unique per test). */
export interface KubeApiFixture {
  api: KubeApi;
  namespace: string;
}

let counter = 0;
const unique = (what: string) => `${what}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

function deployment(name: string, namespace: string, image = "riff/riff-invoker-node:0.1.0", extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "function", image }] } },
      ...extra,
    },
  };
}

function fn(name: string, namespace: string, input = "numbers"): KubeObject {
  return { apiVersion: apiVersionOf(FUNCTIONS), kind: "Function", metadata: { name, namespace }, spec: { invoker: "node", input, artifact: "square.js" } };
}

async function expectStatus(p: Promise<unknown>, status: number): Promise<void> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(kubeStatus(err), String(err)).toBe(status);
}

/** Defines the contract suite for the API `fixture` gives (riff's CRDs installed). */
export function describeKubeApiContract(label: string, fixture: () => KubeApiFixture): void {
  describe(`Kubernetes API contract: ${label}`, () => {
    it("creates, reads and lists; a taken name is a 409; an absent object reads as undefined", async () => {
      const { api, namespace } = fixture();
      const name = unique("fn");
      const made = await api.create(fn(name, namespace));
      expect(made.metadata.uid).toBeTruthy();
      expect(made.metadata.generation).toBe(1);
      await expectStatus(api.create(fn(name, namespace)), 409);
      expect((await api.get(FUNCTIONS, namespace, name))?.spec?.["input"]).toBe("numbers");
      expect((await api.list(FUNCTIONS, namespace)).items.map((i) => i.metadata.name)).toContain(name);
      expect(await api.get(FUNCTIONS, namespace, unique("absent"))).toBeUndefined();
      await api.delete(FUNCTIONS, namespace, unique("absent"));
    });

    it("replaces only from the current resourceVersion; the generation moves with the spec, not the status", async () => {
      const { api, namespace } = fixture();
      const name = unique("fn");
      const made = await api.create(fn(name, namespace));
      const changed = await api.replace({ ...made, spec: { ...made.spec, input: "others" } });
      expect(changed.metadata.generation).toBe(2);
      await expectStatus(api.replace({ ...made, spec: { ...made.spec, input: "third" } }), 409);
      const withStatus = await api.patchStatus(FUNCTIONS, namespace, name, { observedGeneration: 2, replicas: 3 });
      expect(withStatus.metadata.generation).toBe(2);
      expect(withStatus.spec?.["input"]).toBe("others");
      expect(withStatus.status?.["replicas"]).toBe(3);
      const again = await api.patchStatus(FUNCTIONS, namespace, name, { lag: 5 });
      expect(again.status).toMatchObject({ replicas: 3, lag: 5 });
    });

    it("server-side apply keeps replicas set through /scale, and refuses another manager's field unless forced", async () => {
      const { api, namespace } = fixture();
      const name = unique("dep");
      await api.apply(deployment(name, namespace), "riff-controller", true);
      expect((await api.getScale(namespace, name)).replicas).toBe(1);
      await api.setScale(namespace, name, 3);
      const reapplied = await api.apply(deployment(name, namespace, "riff/riff-invoker-node:0.2.0"), "riff-controller", true);
      expect(reapplied.spec?.["replicas"]).toBe(3);
      expect((await api.getScale(namespace, name)).replicas).toBe(3);
      await expectStatus(api.apply(deployment(name, namespace, "someone/else:1"), "someone-else", false), 409);
      const forced = await api.apply(deployment(name, namespace, "someone/else:1"), "someone-else", true);
      expect(JSON.stringify(forced.spec)).toContain("someone/else:1");
    });

    it("a watch from a list's resourceVersion sees every change after it, in order", async () => {
      const { api, namespace } = fixture();
      const name = unique("fn");
      const { resourceVersion } = await api.list(FUNCTIONS, namespace);
      const seen: WatchEvent[] = [];
      const stop = new AbortController();
      const watching = api.watch(FUNCTIONS, resourceVersion, stop.signal, (e) => seen.push(e), namespace);
      const made = await api.create(fn(name, namespace));
      await api.replace({ ...made, spec: { ...made.spec, input: "others" } });
      await api.delete(FUNCTIONS, namespace, name);
      await expect.poll(() => seen.filter((e) => e.object.metadata.name === name).map((e) => e.type), { timeout: 15_000 }).toEqual(["ADDED", "MODIFIED", "DELETED"]);
      stop.abort();
      await watching;
    });

    it("deleting an owner removes what it owns (garbage collection by ownerReferences)", async () => {
      const { api, namespace } = fixture();
      const name = unique("fn");
      const owner = await api.create(fn(name, namespace));
      const ref = { apiVersion: owner.apiVersion, kind: "Function", name, uid: owner.metadata.uid as string, controller: true, blockOwnerDeletion: true };
      const owned = deployment(name, namespace);
      await api.apply({ ...owned, metadata: { ...owned.metadata, ownerReferences: [ref] } }, "riff-controller", true);
      await api.delete(FUNCTIONS, namespace, name);
      await expect.poll(async () => (await api.get(DEPLOYMENTS, namespace, name)) === undefined, { timeout: 30_000 }).toBe(true);
    });

    it("a Lease is written with compare-and-set: of two writers from one version, one wins", async () => {
      const { api, namespace } = fixture();
      const name = unique("lease");
      const lease = await api.create({ apiVersion: apiVersionOf(LEASES), kind: "Lease", metadata: { name, namespace }, spec: { holderIdentity: "a", leaseDurationSeconds: 5 } });
      const results = await Promise.allSettled([
        api.replace({ ...lease, spec: { ...lease.spec, holderIdentity: "b" } }),
        api.replace({ ...lease, spec: { ...lease.spec, holderIdentity: "c" } }),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(kubeStatus(lost.reason)).toBe(409);
    });
  });
}
