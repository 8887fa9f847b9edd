import { describe, expect, it } from "vitest";
import { functionDeployment, type FunctionCustomResource } from "./deployment.js";
import { DEFAULT_INSTALL_SETTINGS, type InstallSettings } from "./settings.js";

/** The parts of the Deployment the contract names. */
interface Rendered {
  metadata: { name: string; namespace?: string; labels: Record<string, string>; ownerReferences: Record<string, unknown>[] };
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        automountServiceAccountToken: boolean;
        containers: { name: string; image: string; command?: string[]; args: string[]; env: { name: string; value?: string }[]; resources?: unknown }[];
      };
    };
  };
}

const settings: InstallSettings = { natsUrl: "nats://nats.example:4222", clusterName: "blue", imagePrefix: "reg.example/riff", version: "1.2.3" };
const fn: FunctionCustomResource = {
  metadata: { name: "square", namespace: "demo", uid: "uid-1", generation: 7 },
  spec: { invoker: "python3", input: ["numbers"], artifact: "square.py", env: { A: "1", POD_NAME: "spoofed" }, resources: { memory: 268435456, cpu: 0.25, pids: 64 } },
};
const render = (f: FunctionCustomResource = fn, s: InstallSettings = settings) => functionDeployment(f, s) as Rendered;
const container = (d: Rendered) => {
  const c = d.spec.template.spec.containers[0];
  if (c === undefined) throw new Error("no container");
  return c;
};

describe("a Function's Deployment", () => {
  it("leaves spec.replicas to riff's autoscaler", () => {
    expect(render().spec).not.toHaveProperty("replicas");
  });

  it("is owned by its Function, so deleting the Function deletes it", () => {
    expect(render().metadata).toMatchObject({ name: "square", namespace: "demo" });
    expect(render().metadata.ownerReferences).toEqual([
      { apiVersion: "projectriff.io/v1alpha1", kind: "Function", name: "square", uid: "uid-1", controller: true, blockOwnerDeletion: true },
    ]);
  });

  it("selects its pods by projectriff.io/function", () => {
    const d = render();
    expect(d.spec.selector.matchLabels).toEqual({ "projectriff.io/function": "square" });
    expect(d.spec.template.metadata.labels).toMatchObject({ "projectriff.io/function": "square", "app.kubernetes.io/instance": "square" });
  });

  it("runs a riff daemon that runs this function only, on the riff cluster", () => {
    const c = container(render());
    expect(c.name).toBe("function");
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual([
      "--home", "/var/lib/riff", "--host", "0.0.0.0", "--port", "8080",
      "--cluster", "nats://nats.example:4222", "--cluster-name", "blue", "--node-name", "$(POD_NAME)",
      "--runs", "square", "--autoscaler", "off", "--sandbox", "none", "--limits", "none",
    ]);
    expect(render().spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it("runs the invoker's image, unless spec.container.image names one", () => {
    expect(container(render()).image).toBe("reg.example/riff/riff-invoker-python3:1.2.3");
    expect(container(render(fn, DEFAULT_INSTALL_SETTINGS)).image).toBe("riff/riff-invoker-python3:0.1.0");
    expect(container(render({ ...fn, spec: { ...fn.spec, container: { image: "me/square:2" } } })).image).toBe("me/square:2");
  });

  it("rolls its pods when the code changes: the revision is the digest, else the generation", () => {
    expect(render().spec.template.metadata.annotations).toEqual({ "projectriff.io/revision": "7" });
    const digest = "b".repeat(64);
    expect(render({ ...fn, spec: { ...fn.spec, digest } }).spec.template.metadata.annotations["projectriff.io/revision"]).toBe(digest);
  });

  it("sets riff's environment first; a user's variable cannot replace it", () => {
    expect(container(render()).env.map((e) => e.name)).toEqual(["POD_NAME", "RIFF_HOME", "RIFF_FUNCTION", "A"]);
    expect(container(render()).env.find((e) => e.name === "RIFF_FUNCTION")?.value).toBe("square");
  });

  it("turns riff's resources into equal requests and limits", () => {
    const amounts = { memory: "268435456", cpu: "250m" };
    expect(container(render()).resources).toEqual({ requests: amounts, limits: amounts });
    expect(container(render({ ...fn, spec: { ...fn.spec, resources: undefined } })).resources).toBeUndefined();
  });
});
