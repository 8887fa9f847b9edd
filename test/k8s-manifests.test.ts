// `riff system install --kubernetes`, run as users run it: the built CLI binary. Its YAML is
// pinned byte for byte in test/golden/k8s-install.yaml, so any change to what riff installs on
// a cluster shows up in review. RIFF_UPDATE_GOLDEN=1 rewrites the file after an intended change.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { installManifests } from "@riff/kubernetes";

const root = join(import.meta.dirname, "..");
const GOLDEN = join(root, "test/golden/k8s-install.yaml");
const dirs: string[] = [];

/** Runs the built `riff` with a home of its own (the command must not need one). */
function riff(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const home = mkdtempSync(join(tmpdir(), "riff-k8s-"));
  dirs.push(home);
  const r = spawnSync(process.execPath, [join(root, "packages/cli/bin/riff.js"), ...args], { encoding: "utf8", env: { ...process.env, RIFF_HOME: home } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("riff system install --kubernetes", () => {
  it("prints the golden manifests, byte for byte, given a fixed token", () => {
    const r = riff("system", "install", "--kubernetes", "-o", "yaml", "--token", "test-token");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    if (process.env["RIFF_UPDATE_GOLDEN"] === "1") writeFileSync(GOLDEN, r.stdout);
    expect(r.stdout).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("prints YAML documents that are, one for one, what installManifests() returns, read as Kubernetes reads YAML (1.1)", () => {
    const r = riff("system", "install", "--kubernetes", "--token", "test-token");
    // YAML 1.1, as Kubernetes' parser: there a bare `off` in args would be the boolean false.
    const docs = parseAllDocuments(r.stdout, { version: "1.1" }).flatMap((d) => ("toJS" in d ? [d.toJS() as unknown] : [])).filter((d) => d !== null);
    expect(docs).toEqual(installManifests({ token: "test-token" }));
    expect(r.stdout).not.toMatch(/[&*]a\d/); // no YAML anchors or aliases
  });

  it("prints a v1 List with -o json, and takes an existing NATS and another image prefix and tag", () => {
    const r = riff("system", "install", "--kubernetes", "-o", "json", "--token", "t", "--nats", "nats://nats.messaging.svc:4222", "--image-prefix", "reg.example/riff", "--image-version", "2.0.0");
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as { kind: string; items: object[] };
    expect(list.kind).toBe("List");
    expect(list.items).toEqual(installManifests({ token: "t", nats: "nats://nats.messaging.svc:4222", imagePrefix: "reg.example/riff", version: "2.0.0" }));
    expect(r.stdout).toContain('"image": "reg.example/riff/riff:2.0.0"');
  });

  it("makes up a random token when none is given", () => {
    const token = (out: string) => /token: (\S+)/.exec(out)?.[1];
    const [first, second] = [riff("system", "install", "--kubernetes"), riff("system", "install", "--kubernetes")];
    const [a, b] = [first.stdout, second.stdout];
    expect(token(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token(a)).not.toBe(token(b));
    // Applied over an installed riff it would replace the running gateways' token: it says how to keep it.
    expect(first.stderr).toContain("keep the current one with: --token \"$(kubectl -n riff-system get secret riff-admin");
  });

  it("the riff image's tarball recipe holds what riff reads at run time, and its caches go to the pod's writable home", () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-dockerfiles-"));
    dirs.push(dir);
    expect(riff("system", "install", "--kubernetes", "--dockerfiles", dir).status).toBe(0);
    const dockerfile = readFileSync(join(dir, "Dockerfile.riff"), "utf8");
    // The recipe's tar line, as a user would run it on this (built) checkout.
    const recipe = /#\s+(tar czf riff\.tgz(?:[^\n]*\\\n#)*[^\n]*)/.exec(dockerfile)?.[1]?.replace(/\\\n#\s*/g, " ");
    expect(recipe).toBeDefined();
    const unpacked = join(dir, "unpacked");
    const tgz = join(dir, "riff.tgz");
    expect(spawnSync("sh", ["-c", (recipe ?? "").replace("riff.tgz", tgz)], { cwd: root, encoding: "utf8" }).status).toBe(0);
    spawnSync("mkdir", ["-p", unpacked]);
    expect(spawnSync("tar", ["xzf", tgz, "-C", unpacked]).status).toBe(0);
    for (const file of [
      "packages/daemon/dist/main.js",
      "packages/runtime/src/invokers/python/_riff_shim.py",
      "packages/runtime/src/invokers/java/RiffShim.java",
      "packages/runtime/src/invokers/go/riffgo/frames.go",
      "packages/runtime/src/invokers/go/plugin-host/main.go",
      "packages/dashboard/static/dashboard.js",
      "packages/sdk/python/riff_windows.py",
    ]) expect(spawnSync("test", ["-f", join(unpacked, file)]).status, file).toBe(0);
    expect(dockerfile).toContain("RIFF_CACHE_DIR=/var/lib/riff/cache");
  });

  it("writes the Dockerfiles with --dockerfiles, and says what it wrote", () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-dockerfiles-"));
    dirs.push(dir);
    const r = riff("system", "install", "--kubernetes", "--dockerfiles", dir);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    const files = readdirSync(dir).sort();
    expect(files).toEqual([".dockerignore", "Dockerfile.invoker-command", "Dockerfile.invoker-command-lines", "Dockerfile.invoker-go", "Dockerfile.invoker-java", "Dockerfile.invoker-node", "Dockerfile.invoker-python3", "Dockerfile.riff"]);
    expect(r.stderr).toContain(`wrote 8 files to ${dir}`);
    const java = readFileSync(join(dir, "Dockerfile.invoker-java"), "utf8");
    expect(java).toContain("ARG BASE=riff/riff:0.1.0");
    expect(java).toContain("openjdk-17-jdk-headless");
    expect(java).toContain('ENTRYPOINT ["node", "/opt/riff/packages/daemon/dist/main.js"]');
    expect(java).toMatch(/USER 1000\n/);
  });

  it("without --kubernetes, refuses with RIFF_INVALID_ARGUMENT and says what exists", () => {
    const r = riff("system", "install");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("needs --kubernetes");
    expect(r.stderr).toContain("riff system start");
    expect(r.stderr).toContain("(RIFF_INVALID_ARGUMENT)");
  });

  it("refuses a --nats that is not a NATS URL", () => {
    const r = riff("system", "install", "--kubernetes", "--nats", "http://x");
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("(RIFF_INVALID_ARGUMENT)");
  });
});
