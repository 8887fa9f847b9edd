import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactDigest } from "@riff/controller";
import { uploadCode } from "@riff/kubernetes/cli-target";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startRiff, type RiffFixture } from "./helpers/riff.js";

// The CLI's Kubernetes target, as far as it runs without an apiserver (test/helpers/kube.ts,
// a local control plane, does not exist yet): code uploads, logs and publish go through a real
// riff's API as they go through riff's gateway in a cluster; the apiserver's side fails with
// riff's codes. Applying to a real apiserver is not tested here.

/** A port nothing listens on: the apiserver of a kubeconfig that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("riff's CLI with --kubeconfig", () => {
  let riff: RiffFixture;
  let dir: string;
  let kubeconfig: string;
  beforeAll(async () => {
    riff = await startRiff();
    dir = mkdtempSync(join(tmpdir(), "riff-kube-target-"));
    kubeconfig = join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:${await closedPort()}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: not-a-real-token } }]
contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: fns } }]
current-context: ctx
`,
    );
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `riff ...` from an empty home: only the flags say where to go. */
  const kubeCli = (args: string[]) => cli(join(dir, "empty-home"), [...args, "--kubeconfig", kubeconfig, "--gateway", riff.url, "--token", riff.token], dir);

  it("uploads a folder and a file through the gateway under the digests riff computes", async () => {
    const src = join(dir, "square");
    mkdirSync(join(src, "node_modules", "left-out"), { recursive: true });
    writeFileSync(join(src, "square.js"), "module.exports = (x) => x ** 2\n");
    writeFileSync(join(src, "node_modules", "left-out", "index.js"), "rebuilt, not deployed\n");
    expect(await uploadCode(riff.url, riff.token, src)).toEqual({ digest: artifactDigest(src), entry: "" });
    expect(await uploadCode(riff.url, riff.token, join(src, "square.js"))).toEqual({ digest: artifactDigest(join(src, "square.js")), entry: "square.js" });
    await expect(uploadCode(riff.url, "wrong-token", src)).rejects.toMatchObject({ code: "RIFF_UNAUTHORIZED" });
  });

  it("publishes and reads logs through the gateway", async () => {
    const src = join(riff.work, "square");
    mkdirSync(src);
    writeFileSync(join(src, "square.js"), "module.exports = (x) => x ** 2\n");
    expect((await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "--filepath", src])).code).toBe(0);
    const published = await kubeCli(["publish", "--input", "numbers", "--data", "10", "--reply"]);
    expect(published.stderr).toContain(`Posting to ${riff.url}/requests/numbers`);
    expect(published.stdout).toBe("100\n");
    const logs = await kubeCli(["logs", "square"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("replica started");
  });

  it("fails with riff's codes where the apiserver cannot be reached or the flags are wrong, after checking the files", async () => {
    const list = await kubeCli(["list"]);
    expect(list.code).not.toBe(0);
    expect(list.stderr).toContain("RIFF_KUBERNETES_UNAVAILABLE");
    const context = await kubeCli(["list", "--context", "nope"]);
    expect(context.stderr).toContain("--context nope: no such context");
    expect(context.stderr).toContain("RIFF_INVALID_ARGUMENT");
    // A bad file is named before anything is sent anywhere.
    const bad = join(dir, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "fn.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Function\nmetadata: { name: square }\nspec: { invoker: node }\n");
    const applied = await kubeCli(["apply", "-f", bad]);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain("fn.yaml");
    expect(applied.stderr).toContain("RIFF_INVALID_RESOURCE");
    const noGateway = await cli(join(dir, "empty-home"), ["logs", "square", "--kubeconfig", kubeconfig, "--token", "t"], dir, { RIFF_GATEWAY: "" });
    expect(noGateway.stderr).toContain("port-forward svc/riff-gateway");
  });
});
