import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { functionDeployment, type FunctionCustomResource } from "./deployment.js";
import { installManifests } from "./install.js";
import { natsConfig } from "./nats.js";
import { DEFAULT_INSTALL_SETTINGS } from "./settings.js";

/** kubernetes-models' ajv validators, by `apiVersion/kind`. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
};

/** Validates one object with the model of its kind; fails on a kind the table lacks. */
function validate(obj: object): void {
  const { apiVersion, kind } = obj as { apiVersion: string; kind: string };
  const Model = MODELS[`${apiVersion}/${kind}`];
  if (Model === undefined) throw new Error(`no model for ${apiVersion} ${kind}`);
  new Model(obj as never).validate();
}

const fn: FunctionCustomResource = {
  metadata: { name: "square", namespace: "demo", uid: "0b6f4b5e-1d6c-4c47-9d0e-7a3f8f0c2a11", generation: 3 },
  spec: {
    invoker: "node",
    input: "numbers",
    output: "squares",
    artifact: "square.js",
    env: { GREETING: "hi", RIFF_HOME: "/elsewhere" },
    resources: { memory: 256 * 1024 * 1024, cpu: 0.5, pids: 64 },
    digest: "a".repeat(64),
  },
};

describe("the manifests pass Kubernetes' own schemas (kubernetes-models 4.5.1)", () => {
  it("every object of the default install", () => {
    const objects = installManifests({ token: "test-token" });
    for (const obj of objects) validate(obj);
    const kinds = objects.map((o) => (o as { kind: string }).kind);
    expect(kinds.slice(0, 4)).toEqual(["Namespace", "CustomResourceDefinition", "CustomResourceDefinition", "CustomResourceDefinition"]);
    expect(kinds).toContain("StatefulSet");
  });

  it("an install on an existing NATS has no NATS of its own", () => {
    const objects = installManifests({ token: "t", nats: "nats://nats.messaging.svc:4222" });
    for (const obj of objects) validate(obj);
    expect(objects.map((o) => (o as { kind: string }).kind)).not.toContain("StatefulSet");
    expect(JSON.stringify(objects)).toContain("nats://nats.messaging.svc:4222");
    expect(JSON.stringify(objects)).not.toContain("riff-nats");
  });

  it("a function's Deployment, with and without its own image", () => {
    validate(functionDeployment(fn, DEFAULT_INSTALL_SETTINGS));
    validate(functionDeployment({ ...fn, spec: { ...fn.spec, digest: undefined, container: { image: "me/square:1" } } }, DEFAULT_INSTALL_SETTINGS));
  });

  it("the validator does catch a broken object (replicas as a string)", () => {
    const broken = structuredClone(installManifests({ token: "t" }).find((o) => (o as { kind: string }).kind === "Deployment")) as {
      spec: { replicas: unknown };
    };
    broken.spec.replicas = "3";
    expect(() => validate(broken)).toThrow(/replicas/);
  });

  it("the Deployments never alias shared objects (they would print as YAML anchors)", () => {
    const [a, b] = [functionDeployment(fn, DEFAULT_INSTALL_SETTINGS), functionDeployment(fn, DEFAULT_INSTALL_SETTINGS)];
    type Pod = { spec: { template: { spec: { containers: { securityContext: object }[] } } } };
    expect((a as Pod).spec.template.spec.containers[0]?.securityContext).not.toBe((b as Pod).spec.template.spec.containers[0]?.securityContext);
  });
});

describe("the RBAC is least privilege", () => {
  it("the ClusterRole grants riff's kinds, Deployments and their scale, and events, nothing else", () => {
    const role = installManifests({ token: "t" }).find((o) => (o as { kind: string }).kind === "ClusterRole") as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    const grants = role.rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups.join()}/${res}: ${r.verbs.join(",")}`));
    expect(grants).toEqual([
      "projectriff.io/functions: get,list,watch",
      "projectriff.io/topics: get,list,watch",
      "projectriff.io/invokers: get,list,watch",
      "projectriff.io/functions/status: get,update,patch",
      "projectriff.io/topics/status: get,update,patch",
      "projectriff.io/invokers/status: get,update,patch",
      "apps/deployments: get,list,watch,create,update,patch,delete",
      "apps/deployments/scale: get,update,patch",
      "/events: create,patch",
    ]);
    expect(JSON.stringify(role)).not.toContain("*");
  });
});

describe("the installed NATS's configuration", () => {
  it("is one nats-server takes, with room for riff's largest message and its headers", () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-nats-conf-"));
    try {
      const file = join(dir, "nats.conf");
      writeFileSync(file, natsConfig());
      // -t: check the file and exit (nats-server of Debian, as the tests' servers are).
      const checked = spawnSync("nats-server", ["-c", file, "-t"], { encoding: "utf8", env: { ...process.env, POD_NAME: "riff-nats-0" } });
      expect(checked.error, "nats-server is needed (apt-get install nats-server)").toBeUndefined();
      expect(checked.status, checked.stderr).toBe(0);
      expect(natsConfig()).toMatch(/^max_payload: 2MB$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
