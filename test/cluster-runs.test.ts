import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { listNodes, startRiffCluster, type RiffCluster, type RiffNode } from "./helpers/cluster.js";
import { cli } from "./helpers/riff.js";
import { until } from "./helpers/until.js";

// The daemon's flags for Kubernetes pods: a gateway node runs no function (--runs none), a
// function's pod runs one replica of its one function (--runs NAME) whatever the placements
// say, and the admin token comes from a mounted Secret (--token-file).

/** Writes `source` as `<name>.js` in a fresh folder and creates the function through `node`. */
async function createNode(riff: RiffCluster, node: RiffNode, name: string, source: string, input: string) {
  const dir = mkdtempSync(join(riff.work, `${name}-`));
  writeFileSync(join(dir, `${name}.js`), source);
  return node.cli(["create", "node", "--name", name, "--filepath", dir, "--input", input]);
}

interface Described {
  replicas: { id: string; node?: string }[];
}

async function describeFn(node: RiffNode, name: string): Promise<Described> {
  const r = await node.cli(["describe", "function", name, "-o", "json"]);
  if (r.code !== 0) throw new Error(`riff describe ${name} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Described;
}

/** A fresh riff home, removed after the test. */
function scratchHome(): string {
  return mkdtempSync(join(tmpdir(), "riff-runs-"));
}

describe("riff nodes for Kubernetes pods", () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startTestNatsServer();
  });
  afterAll(async () => nats.stop());

  it("--runs none answers for every function and runs none; --runs NAME runs one replica of it, even under a burst", async () => {
    // The autoscaler stays on: the leader's placements may ask for more, and node b ignores them.
    await using riff = await startRiffCluster({ servers: [nats.url], count: 0 });
    const a = await riff.add({ args: ["--runs", "none"] });
    const b = await riff.add({ args: ["--runs", "square"] });
    const slowSquare = "module.exports = async (x) => { await new Promise((r) => setTimeout(r, 5)); return x ** 2 }\n";
    expect((await createNode(riff, a, "square", slowSquare, "numbers")).code).toBe(0);
    expect((await createNode(riff, a, "cube", "module.exports = (x) => x ** 3\n", "cubes-in")).code).toBe(0);

    await until("square running on b", async () => ((await describeFn(b, "square")).replicas.length === 1 ? true : undefined));
    const res = await fetch(`${a.url}/requests/numbers`, { method: "POST", headers: { "content-type": "text/plain" }, body: "10" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("100");

    const burst = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
      const r = await fetch(`${a.url}/requests/numbers`, { method: "POST", headers: { "content-type": "text/plain" }, body: String(i) });
      return r.status === 200 ? Number(await r.text()) : -r.status;
    }));
    expect(burst).toEqual(Array.from({ length: 300 }, (_, i) => i * i));
    const after = await describeFn(a, "square");
    expect(after.replicas.map((r) => r.node)).toEqual(["n2"]);
    // One replica started on b, ever: none was added for the burst.
    const logs = await b.cli(["logs", "-n", "square", "--tail", "1000"]);
    expect(logs.stdout.match(/replica started/g)?.length).toBe(1);

    // cube has no runner anywhere: b did not prepare it, a prepared nothing.
    expect((await describeFn(b, "cube")).replicas).toEqual([]);
    expect(existsSync(join(b.home, "functions", "cube"))).toBe(false);
    expect(existsSync(join(a.home, "functions", "square"))).toBe(false);
    expect(existsSync(join(a.home, "functions", "cube"))).toBe(false);

    const statusA = JSON.parse((await a.cli(["system", "status", "-o", "json"])).stdout) as { runs: string; autoscaler: string };
    expect(statusA).toMatchObject({ runs: "none", autoscaler: "on" });
    expect((await b.cli(["system", "status"])).stdout).toContain("runs: square, autoscaler: on");
    expect((await listNodes(a)).map((n) => [n.name, n.runs]).sort()).toEqual([["n1", "none"], ["n2", "square"]]);
  });

  it("the leader places replicas only on nodes that run every function, never on a gateway node", async () => {
    await using riff = await startRiffCluster({ servers: [nats.url], count: 0 });
    // n1 sorts first and is as idle as n2: without the rule it would be the function's home.
    const a = await riff.add({ args: ["--runs", "none"] });
    const c = await riff.add();
    expect((await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", "numbers")).code).toBe(0);
    const res = await fetch(`${a.url}/requests/numbers`, { method: "POST", headers: { "content-type": "text/plain" }, body: "12" });
    expect(await res.text()).toBe("144");
    const described = JSON.parse((await c.cli(["describe", "function", "square", "-o", "json"])).stdout) as { placement?: { nodes: Record<string, number> } };
    expect(Object.keys(described.placement?.nodes ?? {})).toEqual(["n2"]);
  });

  it("refuses --runs and a token file others may read, naming the flag", async () => {
    const home = scratchHome();
    try {
      const alone = await cli(home, ["system", "start", "--port", "0", "--runs", "none"]);
      expect(alone.code).not.toBe(0);
      expect(alone.stderr).toContain("--runs none");
      expect(alone.stderr).toContain("RIFF_INVALID_ARGUMENT");

      const tokenFile = join(home, "secret-token");
      writeFileSync(tokenFile, "a-token-long-enough-to-use\n", { mode: 0o644 });
      chmodSync(tokenFile, 0o644);
      const unsafe = await cli(home, ["system", "start", "--port", "0", "--cluster", nats.url, "--token-file", tokenFile]);
      expect(unsafe.code).not.toBe(0);
      expect(unsafe.stderr).toContain("RIFF_TOKEN_UNSAFE");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("--token-file: the node's admin API takes the file's token, and it becomes the cluster's", async () => {
    const dir = scratchHome();
    try {
      const tokenFile = join(dir, "token");
      const token = "k8s-secret-token-0123456789abcdef";
      writeFileSync(tokenFile, `${token}\n`);
      chmodSync(tokenFile, 0o400);
      await using riff = await startRiffCluster({ servers: [nats.url], count: 0 });
      const a = await riff.add({ args: ["--token-file", tokenFile, "--autoscaler", "off"] });
      const ok = await fetch(`${a.url}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ runs: "all", autoscaler: "off" });
      const wrong = await fetch(`${a.url}/api/v1/status`, { headers: { authorization: "Bearer not-the-token-at-all" } });
      expect(wrong.status).toBe(401);
      // The CLI finds the token where daemon.json says; the home holds none.
      expect((await a.cli(["system", "status"])).stdout).toContain("runs: all, autoscaler: off");
      expect(existsSync(join(a.home, "token"))).toBe(false);
      // A node started without a file takes the cluster's token, the file's.
      const b = await riff.add();
      expect(readFileSync(join(b.home, "token"), "utf8").trim()).toBe(token);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
