// The data path of riff on Kubernetes, as far as it runs here: the hollow kubelet runs no
// containers and its pods' IPs are fake, so the gateway's and the function's pods run as local
// processes with exactly the arguments and environment of the generated manifests (the
// gateway's from `riff system install --kubernetes`, the function's from the Deployment the
// controller applied on a real apiserver). Code uploaded through the gateway, a Function applied
// with kubectl, and a message published through the gateway gets its reply from the function pod.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { create as tar } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ClientKubeApi, DEPLOYMENTS, FUNCTIONS, INVOKERS, loadKubeConfig, TOPICS, type KubeObject } from "@riff/kubernetes";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { startControlPlane, type ControlPlane } from "./helpers/kube.js";
import { startController, type ControllerProcess } from "./helpers/kube-controller.js";
import { runPodLocally, type ContainerSpec, type LocalPod } from "./helpers/kube-pods.js";
import { cli, RIFF_BIN } from "./helpers/riff.js";
import { until } from "./helpers/until.js";

const run = promisify(execFile);
const CLUSTER = "riffdata";
const EXAMPLES = join(import.meta.dirname, "../examples");
const SAMPLES = join(import.meta.dirname, "fixtures/riff-samples");
const TOKEN = "k8s-data-path-test-token-0123456789abcdef";

let plane: ControlPlane;
let nats: TestNatsServer;
let api: ClientKubeApi;
let controller: ControllerProcess;
let gateway: LocalPod;
const pods: LocalPod[] = [];
let install: KubeObject[];

const kubectl = async (args: string[], input?: string) => {
  const p = run("kubectl", ["--kubeconfig", plane.kubeconfig, ...args], { timeout: 60_000 });
  p.child.stdin?.end(input ?? "");
  return (await p).stdout;
};

const containerOf = (d: KubeObject): ContainerSpec => (d.spec as { template: { spec: { containers: ContainerSpec[] } } }).template.spec.containers[0] as ContainerSpec;

beforeAll(async () => {
  plane = await startControlPlane();
  nats = await startTestNatsServer();
  api = new ClientKubeApi(loadKubeConfig({ kubeconfig: plane.kubeconfig }));
  const printed = await run(process.execPath, [RIFF_BIN, "system", "install", "--kubernetes", "--nats", nats.url, "--cluster-name", CLUSTER, "--token", TOKEN, "-o", "json"], { timeout: 60_000 });
  install = (JSON.parse(printed.stdout) as { items: KubeObject[] }).items;
  await kubectl(["apply", "--server-side", "-f", "-"], printed.stdout);
  await kubectl(["wait", "--for", "condition=established", "--timeout", "60s", "crd/functions.projectriff.io"]);
  controller = await startController({ kubeconfig: plane.kubeconfig, nats: nats.url, identity: "ctl", clusterName: CLUSTER, leaseNamespace: "riff-system" });
  // The gateway pod, as the install's Deployment runs it, with the riff-admin Secret's token mounted.
  const gatewayDeployment = install.find((o) => o.kind === "Deployment" && o.metadata.name === "riff-gateway") as KubeObject;
  const tokenFile = join(mkdtempSync(join(tmpdir(), "riff-secret-")), "token");
  writeFileSync(tokenFile, TOKEN, { mode: 0o400 });
  gateway = await runPodLocally(containerOf(gatewayDeployment), { podName: "riff-gateway-0", files: { "/etc/riff/admin/token": tokenFile } });
  pods.push(gateway);
}, 300_000);

afterAll(async () => {
  for (const p of pods) await p.kill("SIGTERM");
  await controller?.kill("SIGTERM");
  await nats?.stop();
  await plane?.stop();
});

describe("riff on Kubernetes: the data path through the generated pods", () => {
  it("a message published through the gateway pod gets its reply from the function pod", async () => {
    // riff apply --kubeconfig uploads the code through the gateway, then applies the resource.
    const dir = mkdtempSync(join(tmpdir(), "riff-square-"));
    writeFileSync(join(dir, "square.js"), "module.exports = (x) => x ** 2\n");
    const chunks: Buffer[] = [];
    for await (const c of tar({ gzip: true, cwd: dir }, ["square.js"])) chunks.push(Buffer.from(c as Uint8Array));
    const uploaded = await fetch(`${gateway.url}/api/v1/artifacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/gzip", "riff-artifact-entry": "square.js" },
      body: Buffer.concat(chunks),
    });
    expect(uploaded.status).toBe(201);
    const { digest } = (await uploaded.json()) as { digest: string };
    await kubectl(["apply", "--server-side", "-f", "-"], stringify({ apiVersion: "projectriff.io/v1alpha1", kind: "Function", metadata: { name: "square", namespace: "default" }, spec: { invoker: "node", input: "numbers", artifact: "square.js", digest } }));

    // The function pod, exactly as the Deployment the controller applied says.
    const deployment = await until("the Deployment of square", () => api.get(DEPLOYMENTS, "default", "square"), 30_000);
    const pod = await runPodLocally(containerOf(deployment), { podName: "square-7d9f-abcde" });
    pods.push(pod);

    const answer = await fetch(`${gateway.url}/requests/numbers`, { method: "POST", headers: { "content-type": "application/json" }, body: "10", signal: AbortSignal.timeout(30_000) });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe("100");
    const fn = await api.get(FUNCTIONS, "default", "square");
    expect(fn?.status?.["revision"]).toBe(1);
  });

  it("a Function whose image holds its code runs the code at spec.artifact, with no upload", async () => {
    // The pod runs here, so "the image's file system" is this machine's: the code at an absolute path.
    const image = mkdtempSync(join(tmpdir(), "riff-image-"));
    writeFileSync(join(image, "shout.js"), "module.exports = (s) => `${s}!`.toUpperCase()\n");
    const spec = { invoker: "node", input: "shouts", artifact: join(image, "shout.js"), container: { image: "registry.example/me/shout:1" } };
    await kubectl(["apply", "--server-side", "-f", "-"], stringify({ apiVersion: "projectriff.io/v1alpha1", kind: "Function", metadata: { name: "shout", namespace: "default" }, spec }));
    const deployment = await until("the Deployment of shout", () => api.get(DEPLOYMENTS, "default", "shout"), 30_000);
    expect(containerOf(deployment).image).toBe("registry.example/me/shout:1");
    pods.push(await runPodLocally(containerOf(deployment), { podName: "shout-6b7c-klmno" }));
    const answer = await fetch(`${gateway.url}/requests/shouts`, { method: "POST", headers: { "content-type": "text/plain" }, body: "hey", signal: AbortSignal.timeout(30_000) });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe("HEY!");
  });

  it("the same CLI: riff create, list, describe, publish, logs and delete with --kubeconfig", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-cube-"));
    writeFileSync(join(dir, "cube.js"), "module.exports = (x) => { console.log(`cubing ${x}`); return x ** 3 }\n");
    // No --token: the CLI reads it from the riff-admin Secret, as a cluster admin's kubeconfig may.
    const k = (args: string[]) => cli(join(dir, "no-home"), [...args, "--kubeconfig", plane.kubeconfig, "--namespace", "default", "--gateway", gateway.url], dir);
    const created = await k(["create", "node", "--name", "cube", "--input", "cubes", "--filepath", dir]);
    expect(created.code, created.stderr).toBe(0);
    const deployment = await until("the Deployment of cube", () => api.get(DEPLOYMENTS, "default", "cube"), 30_000);
    expect((await api.get(FUNCTIONS, "default", "cube"))?.spec).toMatchObject({ invoker: "node", input: "cubes", artifact: "cube.js" });
    pods.push(await runPodLocally(containerOf(deployment), { podName: "cube-5c6d-fghij" }));
    const published = await k(["publish", "--input", "cubes", "--data", "3", "--reply"]);
    expect(published.stdout.trim(), published.stderr).toBe("27");
    const listed = await k(["list"]);
    expect(listed.stdout).toMatch(/cube\s/);
    const described = await k(["describe", "function", "cube"]);
    expect(described.stdout).toMatch(/Ready=True Deployed/);
    const logs = await until("cube's log line", async () => {
      const r = await k(["logs", "-n", "cube"]);
      return r.stdout.includes("cubing 3") ? r.stdout : undefined;
    }, 30_000);
    expect(logs).toContain("cubing 3");
    // The riff cluster's topics, through the gateway.
    const topics = await k(["topics", "list"]);
    expect(topics.code, topics.stderr).toBe(0);
    expect(topics.stdout).toMatch(/^cubes\s+1\s/m);
    expect((await k(["topics", "describe", "cubes"])).stdout).toContain("topic cubes: 1 partition(s)");
    // --dry-run says what would go, and deletes nothing.
    const dry = await k(["delete", "--dry-run", "--all", "cube"]);
    expect(dry.stdout).toContain("would delete function/cube in namespace default, and topic cubes unless another function uses it (dry run: nothing was deleted)");
    expect(await api.get(FUNCTIONS, "default", "cube")).toBeDefined();
    const deleted = await k(["delete", "cube"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    await until("cube's Deployment gone", async () => (await api.get(DEPLOYMENTS, "default", "cube")) === undefined, 60_000);
  });

  it("riff apply --kubeconfig takes what riff apply takes: an Invoker document, and Project riff's Function YAML with its Dockerfile", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-k8s-apply-"));
    const k = (args: string[]) => cli(join(dir, "no-home"), [...args, "--kubeconfig", plane.kubeconfig, "--namespace", "default", "--gateway", gateway.url], dir);
    const perl = await k(["apply", "-f", join(EXAMPLES, "perl")]);
    expect(perl.code, perl.stderr).toBe(0);
    expect(perl.stdout).toContain("invoker/perl created");
    expect(perl.stdout).toContain("function/upper-perl created");
    expect((await api.get(INVOKERS, "default", "perl"))?.spec).toMatchObject({ protocol: "lines" });
    const echo = await k(["apply", "-f", join(SAMPLES, "echo")]);
    expect(echo.code, echo.stderr).toBe(0);
    expect(echo.stderr).toMatch(/warning: .*echo-function\.yaml:\d+: spec\.protocol \(grpc\): ignored/);
    // The Dockerfile named the invoker and the code; the build image is not the pod's.
    const spec = (await api.get(FUNCTIONS, "default", "echo"))?.spec;
    expect(spec).toMatchObject({ invoker: "command", input: "names", artifact: "echo.sh" });
    expect(spec?.["container"]).toBeUndefined();
  });

  it("riff create --kubeconfig without a gateway URL changes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-quad-"));
    writeFileSync(join(dir, "quad.js"), "module.exports = (x) => x ** 4\n");
    const r = await cli(join(dir, "no-home"), ["create", "node", "--name", "quad", "--input", "quads", "--filepath", dir, "--kubeconfig", plane.kubeconfig, "--namespace", "default"], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("needs a URL: --gateway or RIFF_GATEWAY");
    expect(await api.get(TOPICS, "default", "quads")).toBeUndefined();
    expect(await api.get(FUNCTIONS, "default", "quad")).toBeUndefined();
  });
});
