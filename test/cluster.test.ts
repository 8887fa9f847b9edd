import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsCluster, type TestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import { startRiffCluster } from "./helpers/cluster.js";
import { waitForLogCount } from "./helpers/riff.js";

// Several riff nodes on one 3-node NATS JetStream cluster make one riff: what is created on one
// node runs and answers through any other, and every node shows the same functions and logs.
describe("a riff cluster of two nodes on a 3-node NATS cluster", () => {
  let nats: TestNatsCluster;
  beforeAll(async () => {
    nats = await startTestNatsCluster();
  });
  afterAll(async () => nats.stop());

  it("runs the walkthrough across nodes: created on node 1, called through node 2", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = riff.nodes as [typeof riff.nodes[0], typeof riff.nodes[0]];
    const dir = mkdtempSync(join(riff.work, "square-"));
    writeFileSync(join(dir, "square.js"), "module.exports = (x) => x ** 2\n");
    const created = await a.cli(["create", "node", "--name", "square", "--input", "numbers", "--filepath", dir]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("function/square created");
    expect((await a.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("100\n");
    expect((await b.cli(["publish", "--input", "numbers", "--data", "7", "--reply"])).stdout).toBe("49\n");

    // Either node lists it, with the cluster's topics replicated 3 times.
    for (const node of [a, b]) {
      const list = await node.cli(["list", "-o", "json"]);
      const [fn] = JSON.parse(list.stdout) as { name: string; revision: number }[];
      expect(fn).toMatchObject({ name: "square", revision: 1 });
      const topic = JSON.parse((await node.cli(["topics", "describe", "numbers", "-o", "json"])).stdout) as { replicas: number };
      expect(topic.replicas).toBe(3);
    }
    // Logs and describe from the node that does not run it.
    const lines = await waitForLogCount(b.home, "square", /replica started/, 1);
    expect(lines[0]).toMatch(/ n[12]\/square-1-\d+ stderr: riff: replica started/);
    const described = await b.cli(["describe", "function", "square"]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/placed on n[12]/);

    const nodes = JSON.parse((await b.cli(["nodes", "-o", "json"])).stdout) as { cluster: string; nodes: { name: string; health: string; leader: boolean }[] };
    expect(nodes.cluster).toBe(riff.name);
    expect(nodes.nodes.map((n) => [n.name, n.health]).sort()).toEqual([["n1", "ok"], ["n2", "ok"]]);
    expect(nodes.nodes.filter((n) => n.leader).length).toBe(1);
  });
});
