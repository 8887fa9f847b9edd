// The controller's logic on the in-memory Kubernetes API (held to the real apiserver's contract
// by conformance.ts) with a real NATS server: reconcile to Deployments, the autoscaler on /scale
// from a real lag, conditions for resources riff cannot run, and cleanup on delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "@riff/core";
import { createNatsBroker, type NatsBroker } from "@riff/broker-nats";
import { startTestNatsServer, type TestNatsServer } from "../../broker-nats/src/nats-server.test-util.js";
import { DEPLOYMENTS, EVENTS, FUNCTIONS, INVOKERS, TOPICS, apiVersionOf, type KindRef, type KubeObject } from "./kube-api.js";
import { KubeController } from "./kube-controller.js";
import { MemoryKubeApi } from "./memory-kube-api.js";
import { drainGroup, makeBacklog } from "./lag.test-util.js";

const DIGEST = "a".repeat(64);
const settings = { natsUrl: "", clusterName: "riffk", imagePrefix: "riff", version: "0.1.0" };

let nats: TestNatsServer;
let api: MemoryKubeApi;
let controller: KubeController;
let broker: NatsBroker;

const fn = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: apiVersionOf(FUNCTIONS), kind: "Function", metadata: { name, namespace: "default" }, spec });
const topic = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: apiVersionOf(TOPICS), kind: "Topic", metadata: { name, namespace: "default" }, spec });
const ready = async (kind: KindRef, name: string) => {
  const o = await api.get(kind, "default", name);
  return (o?.status?.["conditions"] as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === "Ready");
};

beforeAll(async () => {
  nats = await startTestNatsServer();
  api = new MemoryKubeApi();
  controller = await KubeController.open({
    api,
    servers: [nats.url],
    settings: { ...settings, natsUrl: nats.url },
    identity: "c1",
    lease: { namespace: "riff-system", name: "riff-controller", timing: { leaseDurationMs: 3000, retryPeriodMs: 200, marginMs: 1000 } },
    scaleIntervalMs: 100,
    logger: silentLogger,
  });
  controller.start();
  broker = createNatsBroker({ servers: [nats.url], prefix: settings.clusterName, instance: "test", logger: silentLogger });
  await broker.start();
});

afterAll(async () => {
  await broker?.stop();
  await controller?.stop();
  await nats?.stop();
});

describe("the Kubernetes controller (in-memory API, real NATS)", () => {
  it("turns a Function into a Deployment it owns, without setting its replicas, and says so", async () => {
    await api.create(fn("square", { invoker: "node", input: "numbers", artifact: "square.js", digest: DIGEST, idleTimeoutMs: 500 }));
    await expect.poll(async () => (await ready(FUNCTIONS, "square"))?.reason, { timeout: 15_000 }).toBe("Deployed");
    const d = (await api.get(DEPLOYMENTS, "default", "square")) as KubeObject;
    const owner = (await api.get(FUNCTIONS, "default", "square")) as KubeObject;
    expect(d.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Function", name: "square", uid: owner.metadata.uid, controller: true });
    expect(JSON.stringify(d.spec)).toContain('"--runs","square"');
    expect(owner.status?.["observedGeneration"]).toBe(1);
    const events = (await api.list(EVENTS, "default")).items.filter((e) => (e["involvedObject"] as { name: string }).name === "square");
    expect(events.map((e) => e["reason"])).toContain("Deployed");
    // The input topic exists on the riff cluster's NATS, for the pods to read.
    expect(await broker.getTopic("numbers")).toBeDefined();
  });

  it("scales the Deployment from the lag, 0 -> N (at most the partitions) -> 0, through /scale", async () => {
    await api.create(topic("orders", { partitions: 3 }));
    await expect.poll(async () => (await ready(TOPICS, "orders"))?.status, { timeout: 15_000 }).toBe("True");
    await api.create(fn("pack", { invoker: "node", input: "orders", artifact: "pack.js", digest: DIGEST, idleTimeoutMs: 300, maxReplicas: 5 }));
    // Idle: the Deployment's default replica goes, as the autoscaler keeps idle functions at zero.
    await expect.poll(async () => (await api.getScale("default", "pack")).replicas, { timeout: 15_000 }).toBe(0);
    await makeBacklog(broker, "orders", 30);
    await expect.poll(async () => (await api.getScale("default", "pack")).replicas, { timeout: 15_000 }).toBe(3);
    // The status is written after the round's scale (kube-scaling.ts): a read between the two
    // sees the round before. Wait for the write, not for a time.
    await expect.poll(async () => (await api.get(FUNCTIONS, "default", "pack"))?.status, { timeout: 15_000 }).toMatchObject({ maxReplicas: 3, lag: 30 });
    // A consumer of the function's group drains the lag, as its pods would.
    await drainGroup(broker, "orders", "pack", 30);
    await expect.poll(async () => (await api.getScale("default", "pack")).replicas, { timeout: 15_000 }).toBe(0);
  });

  it("reports what it cannot run as a condition with a reason, and deploys nothing for it", async () => {
    await api.create(fn("nocode", { invoker: "node", input: "numbers", artifact: "x.js" }));
    await api.create(fn("badinput", { invoker: "node", input: "Not_A_Name", artifact: "x.js", digest: DIGEST }));
    await api.create(fn("ping", { invoker: "node", input: "a", output: "b", artifact: "x.js", digest: DIGEST }));
    await api.create(fn("pong", { invoker: "node", input: "b", output: "a", artifact: "x.js", digest: DIGEST }));
    await expect.poll(async () => (await ready(FUNCTIONS, "nocode"))?.reason, { timeout: 15_000 }).toBe("CodeMissing");
    await expect.poll(async () => (await ready(FUNCTIONS, "badinput"))?.reason, { timeout: 15_000 }).toBe("InvalidSpec");
    expect((await ready(FUNCTIONS, "badinput"))?.message).toMatch(/^spec\.input/);
    // A mapping where a topic name belongs is said as such, not as "Invalid input".
    await api.create(fn("mapinput", { invoker: "node", input: { name: "numbers" }, artifact: "x.js", digest: DIGEST }));
    await expect.poll(async () => (await ready(FUNCTIONS, "mapinput"))?.message, { timeout: 15_000 }).toMatch(/^spec\.input: must be a string or a list, not a mapping/);
    await expect.poll(async () => (await ready(FUNCTIONS, "pong"))?.reason, { timeout: 15_000 }).toBe("TopologyCycle");
    expect(await api.get(DEPLOYMENTS, "default", "nocode")).toBeUndefined();
    expect(await api.get(DEPLOYMENTS, "default", "pong")).toBeUndefined();
  });

  it("declares Invoker resources in the riff cluster, so their functions run; a built-in name is refused", async () => {
    const invoker = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: apiVersionOf(INVOKERS), kind: "Invoker", metadata: { name, namespace: "default" }, spec });
    await api.create(fn("greet", { invoker: "perl", input: "names", artifact: "greet.pl", container: { image: "example/perl-riff:1" } }));
    await expect.poll(async () => (await ready(FUNCTIONS, "greet"))?.reason, { timeout: 15_000 }).toBe("InvalidSpec");
    await api.create(invoker("perl", { command: ["perl", "{artifact}"], protocol: "lines", matchers: ["*.pl"] }));
    await expect.poll(async () => (await ready(INVOKERS, "perl"))?.reason, { timeout: 15_000 }).toBe("Declared");
    await expect.poll(async () => (await ready(FUNCTIONS, "greet"))?.reason, { timeout: 15_000 }).toBe("Deployed");
    const d = (await api.get(DEPLOYMENTS, "default", "greet")) as KubeObject;
    expect(JSON.stringify(d.spec)).toContain("example/perl-riff:1");
    // riff has no image of perl: without one of the user's, its pods could never start.
    await api.create(fn("greet-bare", { invoker: "perl", input: "names", artifact: "greet.pl", digest: DIGEST }));
    await expect.poll(async () => (await ready(FUNCTIONS, "greet-bare"))?.reason, { timeout: 15_000 }).toBe("ImageMissing");
    expect(await api.get(DEPLOYMENTS, "default", "greet-bare")).toBeUndefined();
    await api.create(invoker("node", { command: ["node"], protocol: "lines" }));
    await expect.poll(async () => (await ready(INVOKERS, "node"))?.reason, { timeout: 15_000 }).toBe("BuiltIn");
  });

  it("a topic or invoker name declared in a second namespace is refused with NameTaken; the first keeps it, and the second takes it when the first goes", async () => {
    const inDemo = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, namespace: "demo" } });
    const invoker = (name: string, command: string[]): KubeObject => ({ apiVersion: apiVersionOf(INVOKERS), kind: "Invoker", metadata: { name, namespace: "default" }, spec: { command, protocol: "lines" } });
    const condition = async (kind: KindRef, namespace: string, name: string) =>
      ((await api.get(kind, namespace, name))?.status?.["conditions"] as { type: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === "Ready");
    await api.create(topic("shared", { partitions: 1 }));
    await expect.poll(async () => (await ready(TOPICS, "shared"))?.status, { timeout: 15_000 }).toBe("True");
    await api.create(inDemo(topic("shared", { partitions: 3 })));
    await expect.poll(async () => (await condition(TOPICS, "demo", "shared"))?.reason, { timeout: 15_000 }).toBe("NameTaken");
    expect((await condition(TOPICS, "demo", "shared"))?.message).toContain("already declared in namespace default");
    expect((await broker.getTopic("shared", { fresh: true }))?.partitions).toBe(1);
    await api.delete(TOPICS, "default", "shared");
    await expect.poll(async () => (await condition(TOPICS, "demo", "shared"))?.reason, { timeout: 15_000 }).toBe("Ready");
    expect((await broker.getTopic("shared", { fresh: true }))?.partitions).toBe(3);

    await api.create(invoker("fortran", ["gfortran-run", "{artifact}"]));
    await expect.poll(async () => (await ready(INVOKERS, "fortran"))?.reason, { timeout: 15_000 }).toBe("Declared");
    await api.create(inDemo(invoker("fortran", ["evil"])));
    await expect.poll(async () => (await condition(INVOKERS, "demo", "fortran"))?.reason, { timeout: 15_000 }).toBe("NameTaken");
    // Deleting the refused one leaves the declared one alone: a function of it still deploys.
    await api.delete(INVOKERS, "demo", "fortran");
    await api.create(fn("ftn", { invoker: "fortran", input: "ftn-in", artifact: "ftn.f90", container: { image: "example/fortran:1" } }));
    await expect.poll(async () => (await ready(FUNCTIONS, "ftn"))?.reason, { timeout: 15_000 }).toBe("Deployed");
    expect((await ready(INVOKERS, "fortran"))?.message).toContain("gfortran-run");
  });

  it("an invoker whose resource went while a function used it goes once that function does", async () => {
    const invoker: KubeObject = { apiVersion: apiVersionOf(INVOKERS), kind: "Invoker", metadata: { name: "cobol", namespace: "default" }, spec: { command: ["cobc-run", "{artifact}"], protocol: "lines" } };
    await api.create(invoker);
    await expect.poll(async () => (await ready(INVOKERS, "cobol"))?.reason, { timeout: 15_000 }).toBe("Declared");
    await api.create(fn("ledger", { invoker: "cobol", input: "ledger-in", artifact: "ledger.cbl", container: { image: "example/cobol:1" } }));
    await expect.poll(async () => (await ready(FUNCTIONS, "ledger"))?.reason, { timeout: 15_000 }).toBe("Deployed");
    await api.delete(INVOKERS, "default", "cobol");
    // Kept while its function runs: the function is not broken by the delete.
    await expect.poll(async () => (await ready(FUNCTIONS, "ledger"))?.reason, { timeout: 5_000 }).toBe("Deployed");
    expect(controller.invokerNames()).toContain("cobol");
    await api.delete(FUNCTIONS, "default", "ledger");
    await expect.poll(() => controller.invokerNames().includes("cobol"), { timeout: 15_000 }).toBe(false);
  });

  it("refuses to decrease a topic's partitions", async () => {
    await api.create(topic("events", { partitions: 4 }));
    await expect.poll(async () => (await ready(TOPICS, "events"))?.status, { timeout: 15_000 }).toBe("True");
    const t = (await api.get(TOPICS, "default", "events")) as KubeObject;
    await api.replace({ ...t, spec: { partitions: 2 } });
    await expect.poll(async () => (await ready(TOPICS, "events"))?.reason, { timeout: 15_000 }).toBe("PartitionDecreaseRefused");
    expect((await broker.getTopic("events"))?.partitions).toBe(4);
  });

  it("deleting a Function removes its Deployment", async () => {
    await api.delete(FUNCTIONS, "default", "square");
    await expect.poll(async () => (await api.get(DEPLOYMENTS, "default", "square")) === undefined, { timeout: 15_000 }).toBe(true);
    expect(controller.isLeader).toBe(true);
  });
});
