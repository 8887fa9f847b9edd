// riff's controller on a real Kubernetes control plane (kube-apiserver 1.20, etcd, the
// controller-manager's garbage collector, a hollow kubelet; scripts/k8s-control-plane.sh) with a
// real NATS server: the API contract the in-memory fake is held to, a Function applied with
// kubectl and reconciled to a Deployment, riff's autoscaler on /scale from a real lag, conditions,
// garbage collection, and leader election failing over when the leader is killed mid-reconcile.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { silentLogger } from "@riff/core";
import { createNatsBroker, type NatsBroker } from "@riff/broker-nats";
import { ClientKubeApi, DEPLOYMENTS, EVENTS, FUNCTIONS, LEASES, loadKubeConfig, type KubeObject } from "@riff/kubernetes";
import { describeKubeApiContract } from "@riff/kubernetes/conformance";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { startControlPlane, type ControlPlane } from "./helpers/kube.js";
import { RIFF_BIN } from "./helpers/riff.js";
import { until } from "./helpers/until.js";
import { startController, type ControllerProcess } from "./helpers/kube-controller.js";
import { drainGroup, makeBacklog } from "../packages/kubernetes/src/lag.test-util.js";

const run = promisify(execFile);
const CLUSTER = "riffk8s";
const DIGEST = "b".repeat(64);

let plane: ControlPlane;
let nats: TestNatsServer;
let api: ClientKubeApi;
let broker: NatsBroker;
const controllers: ControllerProcess[] = [];
/** The controllers' kubeconfig: their ServiceAccount's token. */
let controllerConfig: string;

const kubectl = async (args: string[], input?: string) => {
  const child = run("kubectl", ["--kubeconfig", plane.kubeconfig, ...args], { timeout: 60_000 });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  return (await child).stdout;
};

const readyOf = async (name: string) => {
  const o = await api.get(FUNCTIONS, "default", name);
  return (o?.status?.["conditions"] as { type: string; status: string; reason: string; message: string }[] | undefined)?.find((c) => c.type === "Ready");
};

const functionYaml = (name: string, spec: Record<string, unknown>) => stringify({ apiVersion: "projectriff.io/v1alpha1", kind: "Function", metadata: { name, namespace: "default" }, spec });

/**
 * A kubeconfig of the controller's own ServiceAccount, as the install's RBAC grants it: the
 * controllers of this test run with it, so the least privilege is shown to be enough.
 */
async function serviceAccountKubeconfig(): Promise<string> {
  const token = await until("the token of ServiceAccount riff-controller", async () => {
    const secrets = JSON.parse(await kubectl(["get", "secrets", "-n", "riff-system", "-o", "json"])) as { items: { type: string; metadata: { annotations?: Record<string, string> }; data?: { token?: string } }[] };
    const s = secrets.items.find((i) => i.type === "kubernetes.io/service-account-token" && i.metadata.annotations?.["kubernetes.io/service-account.name"] === "riff-controller");
    return s?.data?.token === undefined ? undefined : Buffer.from(s.data.token, "base64").toString("utf8");
  }, 60_000);
  const config = parse(readFileSync(plane.kubeconfig, "utf8")) as { users: { user: Record<string, unknown> }[] };
  for (const u of config.users) u.user = { token };
  const file = join(plane.dir, "controller.kubeconfig");
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  plane = await startControlPlane();
  nats = await startTestNatsServer();
  api = new ClientKubeApi(loadKubeConfig({ kubeconfig: plane.kubeconfig }));
  // Installed as users install it: the generated manifests, server-side applied.
  const install = await run(process.execPath, [RIFF_BIN, "system", "install", "--kubernetes", "--nats", nats.url, "--cluster-name", CLUSTER], { timeout: 60_000 });
  await kubectl(["apply", "--server-side", "-f", "-"], install.stdout);
  await kubectl(["wait", "--for", "condition=established", "--timeout", "60s", "crd/functions.projectriff.io", "crd/topics.projectriff.io", "crd/invokers.projectriff.io"]);
  await kubectl(["create", "namespace", "riff-contract"]);
  controllerConfig = await serviceAccountKubeconfig();
  broker = createNatsBroker({ servers: [nats.url], prefix: CLUSTER, instance: "test", logger: silentLogger });
  await broker.start();
}, 300_000);

afterAll(async () => {
  for (const c of controllers) await c.kill("SIGTERM");
  await broker?.stop();
  await nats?.stop();
  await plane?.stop();
});

// In a namespace of its own: its objects stay out of the controller tests' listings.
describeKubeApiContract("kube-apiserver 1.20", () => ({ api, namespace: "riff-contract" }));

describe("riff's controller on a real apiserver", () => {
  // Started after the contract suite, whose objects they would otherwise reconcile under its feet.
  beforeAll(async () => {
    for (const identity of ["ctl-a", "ctl-b"]) {
      controllers.push(await startController({ kubeconfig: controllerConfig, nats: nats.url, identity, clusterName: CLUSTER, leaseNamespace: "riff-system", args: ["--log-level", "debug"] }));
    }
  }, 60_000);

  it("reconciles a Function applied with kubectl to a Deployment it owns, and kubectl get functions shows riff's columns", async () => {
    await kubectl(["apply", "--server-side", "-f", "-"], functionYaml("square", { invoker: "node", input: "numbers", artifact: "square.js", digest: DIGEST, idleTimeoutMs: "1s" }));
    await expect.poll(async () => (await readyOf("square"))?.status, { timeout: 30_000 }).toBe("True");
    const d = (await api.get(DEPLOYMENTS, "default", "square")) as KubeObject;
    const owner = (await api.get(FUNCTIONS, "default", "square")) as KubeObject;
    expect(d.metadata.ownerReferences?.[0]).toMatchObject({ kind: "Function", name: "square", uid: owner.metadata.uid, controller: true });
    const container = (d.spec as { template: { spec: { containers: { image: string; args: string[] }[] } } }).template.spec.containers[0];
    expect(container?.image).toBe("riff/riff-invoker-node:0.1.0");
    expect(container?.args).toEqual(expect.arrayContaining(["--runs", "square", "--cluster", "--autoscaler", "off"]));
    // Server-side apply: the controller's field manager never owns spec.replicas (the autoscaler's, through /scale).
    const managed = (d.metadata as { managedFields?: { manager: string; fieldsV1?: { "f:spec"?: Record<string, unknown> } }[] }).managedFields ?? [];
    const mine = managed.find((m) => m.manager === "riff-controller");
    expect(mine).toBeDefined();
    expect(Object.keys(mine?.fieldsV1?.["f:spec"] ?? {})).not.toContain("f:replicas");
    const table = await kubectl(["get", "functions", "-n", "default"]);
    console.log(`kubectl get functions:\n${table}`);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+INVOKER\s+INPUT\s+OUTPUT\s+REPLICAS\s+READY\s+LAG\s+AGE/);
    expect(table).toMatch(/square\s+node\s+numbers\s+.*True/);
  });

  it("riff's autoscaler drives the Deployment's /scale from the topic lag: 0 -> N (N <= partitions) -> 0", async () => {
    await broker.createTopic("orders", { partitions: 3 });
    await kubectl(["apply", "--server-side", "-f", "-"], functionYaml("pack", { invoker: "node", input: "orders", artifact: "pack.js", digest: DIGEST, idleTimeoutMs: 500, maxReplicas: 8 }));
    await expect.poll(async () => (await api.getScale("default", "pack").catch(() => ({ replicas: -1 }))).replicas, { timeout: 30_000 }).toBe(0);
    await makeBacklog(broker, "orders", 30);
    await expect.poll(async () => (await api.getScale("default", "pack")).replicas, { timeout: 30_000 }).toBe(3);
    await expect.poll(async () => (await api.get(FUNCTIONS, "default", "pack"))?.status, { timeout: 30_000 }).toMatchObject({ replicas: 3, lag: 30, maxReplicas: 3 });
    // The hollow kubelet runs no containers: a consumer of the function's group drains the lag as its pods would.
    await drainGroup(broker, "orders", "pack", 30);
    await expect.poll(async () => (await api.getScale("default", "pack")).replicas, { timeout: 30_000 }).toBe(0);
    const events = (await api.list(EVENTS, "default")).items.filter((e) => (e["involvedObject"] as { name: string }).name === "pack");
    expect(events.map((e) => e["reason"])).toContain("Scaled");
  });

  it("says why it cannot run a Function, in a condition and an event", async () => {
    await kubectl(["apply", "--server-side", "-f", "-"], functionYaml("nocode", { invoker: "node", input: "numbers", artifact: "x.js" }));
    await kubectl(["apply", "--server-side", "-f", "-"], functionYaml("ping", { invoker: "node", input: "ping-in", output: "ping-out", artifact: "x.js", digest: DIGEST }));
    await kubectl(["apply", "--server-side", "-f", "-"], functionYaml("pong", { invoker: "node", input: "ping-out", output: "ping-in", artifact: "x.js", digest: DIGEST }));
    await expect.poll(async () => (await readyOf("nocode"))?.reason, { timeout: 30_000 }).toBe("CodeMissing");
    await expect.poll(async () => (await readyOf("pong"))?.reason, { timeout: 30_000 }).toBe("TopologyCycle");
    expect(await api.get(DEPLOYMENTS, "default", "pong")).toBeUndefined();
    const described = await kubectl(["describe", "function", "nocode", "-n", "default"]);
    expect(described).toMatch(/CodeMissing/);
  });

  it("deleting a Function removes its Deployment (garbage collection)", async () => {
    await kubectl(["delete", "function", "square", "-n", "default"]);
    await expect.poll(async () => (await api.get(DEPLOYMENTS, "default", "square")) === undefined, { timeout: 60_000 }).toBe(true);
  });

  it("runs with its ServiceAccount's least privilege: no access to Secrets or Pods", async () => {
    const as = ["--as", "system:serviceaccount:riff-system:riff-controller"];
    const can = async (verb: string, what: string) => (await kubectl(["auth", "can-i", verb, what, "-A", ...as]).catch((e: { stdout?: string }) => e.stdout ?? "")).trim();
    expect(await can("patch", "deployments.apps/scale")).toBe("yes");
    expect(await can("list", "secrets")).toBe("no");
    expect(await can("create", "pods")).toBe("no");
    expect(await can("delete", "functions.projectriff.io")).toBe("no");
  });

  it("fails over to the standby controller when the leader is killed mid-reconcile", async () => {
    const lease = async () => (await api.get(LEASES, "riff-system", "riff-controller"))?.spec?.["holderIdentity"] as string | undefined;
    const leaderId = await lease();
    const leader = controllers.find((c) => c.identity === leaderId) as ControllerProcess;
    const standby = controllers.find((c) => c.identity !== leaderId) as ControllerProcess;
    expect(leader).toBeDefined();
    const names = ["late-a", "late-b", "late-c"];
    await kubectl(["apply", "--server-side", "-f", "-"], names.map((n) => functionYaml(n, { invoker: "node", input: `${n}-in`, artifact: "x.js", digest: DIGEST })).join("---\n"));
    // Killed as soon as it starts on them: what it had not done, the standby does.
    await leader.logged(/"fn":"late-a"/).catch(() => undefined);
    await leader.kill("SIGKILL");
    await expect.poll(lease, { timeout: 30_000 }).toBe(standby.identity);
    for (const n of names) await expect.poll(async () => (await readyOf(n))?.reason, { timeout: 30_000 }).toBe("Deployed").catch((err: unknown) => {
      throw new Error(`${String(err)}\nthe standby's log:\n${standby.log()}`);
    });
    for (const n of names) expect(await api.get(DEPLOYMENTS, "default", n)).toBeDefined();
  });
});
