import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsCluster, type TestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import { listNodes, startRiffCluster, waitFor, type RiffCluster, type RiffNode } from "./helpers/cluster.js";
import { cli, tailN, waitForLog, waitForLogCount } from "./helpers/riff.js";

// Several riff nodes on one 3-node NATS JetStream cluster make one riff: what is created on one
// node runs and answers through any other, and every node shows the same functions and logs.

/** Writes `source` as `<name>.js` in a fresh folder of the cluster's and creates it through `node`. */
async function createNode(riff: RiffCluster, node: RiffNode, name: string, source: string, args: string[]) {
  const dir = mkdtempSync(join(riff.work, `${name}-`));
  writeFileSync(join(dir, `${name}.js`), source);
  return node.cli(["create", "node", "--name", name, "--filepath", dir, ...args]);
}

function two(riff: RiffCluster): [RiffNode, RiffNode] {
  return riff.nodes as [RiffNode, RiffNode];
}

/** Waits until both nodes hold partitions of function `fn`; resolves with them. */
function bothHold(node: RiffNode, fn: string): Promise<string[][]> {
  return waitFor(`both nodes holding partitions of ${fn}`, async () => {
    const held = (await listNodes(node)).map((n) => n.partitions.filter((p) => p.startsWith(`${fn}:`)));
    return held.filter((p) => p.length > 0).length === 2 ? held : undefined;
  }, { timeoutMs: 30_000 });
}

describe("a riff cluster of two nodes on a 3-node NATS cluster", () => {
  let nats: TestNatsCluster;
  beforeAll(async () => {
    nats = await startTestNatsCluster();
  });
  afterAll(async () => nats.stop());

  it("runs the walkthrough across nodes: created on node 1, called through node 2", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    const created = await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]);
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

    // Deleted through one node and made again through the other: the other node made the topic
    // again (it did not call its stale copy "unchanged"), both nodes answer, and describe shows
    // none of the deleted function's scaling decisions.
    expect((await b.cli(["delete", "--all", "square"])).code).toBe(0);
    const again = await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]);
    expect(again.stdout).toContain("topic/numbers created");
    expect((await b.cli(["publish", "--input", "numbers", "--data", "4", "--reply"])).stdout).toBe("16\n");
    expect((await a.cli(["publish", "--input", "numbers", "--data", "5", "--reply"])).stdout).toBe("25\n");
    const detail = JSON.parse((await b.cli(["describe", "function", "square", "-o", "json"])).stdout) as { createdAt: string; decisions: { at: string }[] };
    expect(detail.decisions.filter((d) => d.at < detail.createdAt)).toEqual([]);
  });

  it("refuses a node under a running node's name or with other copies than the cluster's; a node killed and restarted takes its name back, and one NATS knows but never answers does not keep it", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 1 });
    const [a] = riff.nodes as [RiffNode];
    const other = mkdtempSync(join(riff.work, "other-home-"));
    const joinArgs = ["system", "start", "--port", "0", "--cluster", nats.urls.join(","), "--cluster-name", riff.name];

    const taken = await cli(other, [...joinArgs, "--node-name", a.name]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`--node-name ${a.name}: node ${a.name} of cluster ${riff.name} is running, at ${a.url}`);
    expect(taken.stderr).toContain("(RIFF_NODE_NAME_TAKEN)");
    expect(taken.stderr).not.toMatch(/\n\s+at /);

    // A port that is taken fails the start before it joins: no admin token of the cluster's in the new home.
    const portless = mkdtempSync(join(riff.work, "portless-home-"));
    const busy = await cli(portless, ["system", "start", "--port", new URL(a.url).port, "--cluster", nats.urls.join(","), "--cluster-name", riff.name, "--node-name", "n8"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("(RIFF_PORT_IN_USE)");
    expect(existsSync(join(portless, "token"))).toBe(false);
    expect(readFileSync(join(portless, "daemon.log"), "utf8")).not.toContain("admin token");

    const fewer = await cli(other, [...joinArgs, "--node-name", "n9", "--replicas", "1"]);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr).toContain(`--replicas 1: cluster ${riff.name} keeps 3 copies of each topic`);
    expect(fewer.stderr).toContain("(RIFF_CLUSTER_SETTING_CONFLICT)");
    // Refused, not applied: the cluster and the topics made now keep 3 copies.
    const status = JSON.parse((await a.cli(["system", "status", "-o", "json"])).stdout) as { cluster: { replicas: number; nodes: number } };
    expect(status.cluster).toMatchObject({ replicas: 3, nodes: 1 });
    expect((await a.cli(["topics", "create", "after"])).code).toBe(0);
    expect((JSON.parse((await a.cli(["topics", "describe", "after", "-o", "json"])).stdout) as { replicas: number }).replicas).toBe(3);

    // The running node's own home, asked for another node: refused, and the node runs on.
    const again = await a.cli(["system", "start", "--node-name", "n7"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`not applied: --node-name n7 (it runs with ${a.name})`);
    expect((await a.cli(["system", "start"])).code).toBe(0);
    // Its servers named again, fewer of them, is the same cluster; a server it does not use is not.
    expect((await a.cli(["system", "start", "--cluster", nats.urls[1] as string])).code).toBe(0);
    const elsewhere = await a.cli(["system", "start", "--cluster", "nats://127.0.0.1:1"]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain("not applied: --cluster nats://127.0.0.1:1 (it runs on ");
    expect(elsewhere.stderr).toContain("(RIFF_DAEMON_ALREADY_RUNNING)");

    a.signal("SIGKILL");
    await a.restart();
    expect((JSON.parse((await a.cli(["system", "status", "-o", "json"])).stdout) as { cluster: { node: string } }).cluster.node).toBe(a.name);

    // A holder of the name that NATS still knows but that never answers (a host that died
    // without closing its connection) is no proof: the node starts, and says so.
    const nc = await connect({ servers: nats.urls });
    try {
      nc.subscribe(`_RIFF.${riff.name}.nodes-whois.n2`);
      await nc.flush();
      const b = await riff.add();
      expect(b.name).toBe("n2");
      expect(readFileSync(join(b.home, "daemon.log"), "utf8")).toContain("did not answer; starting anyway");
    } finally {
      await nc.close();
    }

    // A home taken to another riff cluster is told so: there, its functions are not to be seen.
    const b = riff.nodes[1] as RiffNode;
    expect((await b.cli(["system", "stop"])).code).toBe(0);
    const moved = await cli(b.home, [...joinArgs.slice(0, -1), `${riff.name}x`]);
    try {
      expect(moved.code).toBe(0);
      expect(moved.stderr).toContain(`note: this home last ran as node n2 of cluster ${riff.name}; it now joins cluster ${riff.name}x as node n2:`);
      expect((await b.cli(["system", "start"])).stderr).not.toContain("note:");
    } finally {
      await cli(b.home, ["system", "stop"]);
    }
  });

  it("replies through a pipeline whose stages were made on different nodes, and tails from either", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    expect((await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers", "--output", "squares"])).code).toBe(0);
    expect((await createNode(riff, b, "plusone", "module.exports = (x) => Number(x) + 1\n", ["--input", "squares", "--output", "results"])).code).toBe(0);
    const tailing = tailN(a.home, "results", 1);
    const res = await fetch(`${b.url}/requests/numbers`, { method: "POST", headers: { "content-type": "text/plain", "x-riff-reply-from": "end" }, body: "3" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("10");
    expect((await tailing).map((m) => m.payload)).toEqual(["10"]);
  });

  it("dead-letters and stops loops cluster-wide: what fails on one node shows on the other", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    expect((await createNode(riff, a, "boom", "module.exports = () => { throw new Error('boom') }\n", ["--input", "fragile"])).code).toBe(0);
    expect((await b.cli(["publish", "--input", "fragile", "--data", "x"])).code).toBe(0);
    const [dead] = await tailN(b.home, "boom-dead-letters", 1);
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("boom");

    expect((await createNode(riff, b, "echo", "module.exports = (x) => x\n", ["--input", "ring", "--output", "ring", "--allow-cycle"])).code).toBe(0);
    expect((await a.cli(["publish", "--input", "ring", "--data", "round"])).code).toBe(0);
    const [looped] = await tailN(a.home, "echo-dead-letters", 1);
    expect(looped?.headers["riff-dead-letter-reason"]?.[0]).toMatch(/over the hop limit of 16/);
    // Every node shows it as looping once the node that ran it said so in its heartbeat.
    for (const node of [a, b]) {
      await waitFor(`${node.name} listing echo as looping`, async () => {
        const listed = JSON.parse((await node.cli(["list", "-o", "json"])).stdout) as { name: string; status: string }[];
        return listed.find((f) => f.name === "echo")?.status === "looping" ? true : undefined;
      }, { timeoutMs: 10_000 });
    }
  });

  it("refuses the second of two conflicting applies with RIFF_CONFLICT, never a silent overwrite", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    // Loading takes 3 s, so both applies are trying their new revision at the same time.
    const slow = (answer: string) => `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3000);\nmodule.exports = () => ${answer};\n`;
    expect((await createNode(riff, a, "answer", "module.exports = () => 0\n", ["--input", "questions"])).code).toBe(0);
    // Both nodes run revision 1 before the race, so both applies take the same path (try the
    // new code here, then write): a node that did not host it yet would write at once, and the
    // other apply, started a moment later, would read that write and legitimately succeed too.
    await waitFor("both nodes on revision 1", async () => {
      const detail = JSON.parse((await a.cli(["describe", "function", "answer", "-o", "json"])).stdout) as { nodes: Record<string, { revision: number }> };
      return Object.values(detail.nodes).map((n) => n.revision).join() === "1,1" ? true : undefined;
    }, { timeoutMs: 60_000 });
    const dirs = ["one", "two"].map((tag) => {
      const dir = mkdtempSync(join(riff.work, `answer-${tag}-`));
      writeFileSync(join(dir, "answer.js"), slow(tag === "one" ? "1" : "2"));
      writeFileSync(join(dir, "answer.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Function\nmetadata:\n  name: answer\nspec:\n  invoker: node\n  input: questions\n  artifact: answer.js\n");
      return dir;
    });
    // Asked all along the race, through both nodes: the loser's code must never answer.
    const answers = new Set<string>();
    let racing = true;
    const asking = (async () => {
      for (let i = 0; racing; i++) {
        const res = await fetch(`${(i % 2 === 0 ? a : b).url}/requests/questions`, { method: "POST", body: "?" });
        answers.add(`${res.status} ${await res.text()}`);
      }
    })();
    const [r1, r2] = await Promise.all([a.cli(["apply", "-f", join(dirs[0] as string, "answer.yaml")]), b.cli(["apply", "-f", join(dirs[1] as string, "answer.yaml")])]);
    racing = false;
    await asking;
    const outcomes = [r1, r2].map((r) => (r.code === 0 ? "applied" : /RIFF_CONFLICT/.test(r.stderr) ? "conflict" : r.stderr));
    expect(outcomes.sort()).toEqual(["applied", "conflict"]);
    // Said in riff's words: the store's versions are not the function's revisions.
    expect([r1, r2].find((r) => r.code !== 0)?.stderr).toContain("'answer' was changed by someone else meanwhile; this change was not applied");
    const winner = r1.code === 0 ? "1" : "2";
    expect([...answers].every((answer) => answer === "200 0" || answer === `200 ${winner}`), [...answers].join(", ")).toBe(true);
    const list = JSON.parse((await b.cli(["list", "-o", "json"])).stdout) as { name: string; revision: number }[];
    expect(list.find((f) => f.name === "answer")?.revision).toBe(2);
    // Every node rolls to the stored revision (the loser's node too), as its heartbeat says.
    await waitFor("both nodes on revision 2", async () => {
      const detail = JSON.parse((await a.cli(["describe", "function", "answer", "-o", "json"])).stdout) as { nodes: Record<string, { revision: number }> };
      return Object.values(detail.nodes).map((n) => n.revision).join() === "2,2" ? true : undefined;
    }, { timeoutMs: 60_000 });
    expect((await b.cli(["publish", "--input", "questions", "--data", "?", "--reply", "--timeout", "30s"])).stdout).toBe(`${winner}\n`);
  });

  it("stores a message once per Idempotency-Key, whichever node each repeat reaches", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    expect((await a.cli(["topics", "create", "orders", "--partitions", "4"])).code).toBe(0);
    const post = (node: RiffNode, body: string) => fetch(`${node.url}/messages/orders`, { method: "POST", body, headers: { "idempotency-key": "order-9" } });
    const first = await post(a, "order 9");
    expect(first.status).toBe(202);
    // Node b has never seen the key: JetStream's deduplication (same message id, same stream) answers.
    const again = await post(b, "order 9");
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(await first.json());
    const d = JSON.parse((await b.cli(["topics", "describe", "orders", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(d.offsets.reduce((n, o) => n + o.end, 0)).toBe(1);
  });

  it("refuses to delete a topic a function reads anywhere, unless forced", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    expect((await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"])).code).toBe(0);
    const refused = await b.cli(["topics", "delete", "numbers"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("topic 'numbers' is used by function 'square'");
    expect(refused.stderr).toContain("--force");
    expect((await b.cli(["topics", "delete", "numbers", "--force"])).stdout).toBe("topic/numbers deleted\n");
  });

  it("gives partitions raised through one node to the groups on every node", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    expect((await createNode(riff, a, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers", "--partitions", "2", "--min-replicas", "2"])).code).toBe(0);
    await bothHold(a, "square");
    expect((await b.cli(["topics", "create", "numbers", "--partitions", "4"])).stdout).toMatch(/topic\/numbers updated: 4 partition/);
    const held = await waitFor("the 4 partitions dealt over both nodes", async () => {
      const all = (await listNodes(a)).flatMap((n) => n.partitions.filter((p) => p.startsWith("square:")));
      return all.length === 4 ? all.sort() : undefined;
    }, { timeoutMs: 30_000 });
    expect(held).toEqual(["square: numbers/0", "square: numbers/1", "square: numbers/2", "square: numbers/3"]);
    expect((await b.cli(["publish", "--input", "numbers", "--data", "5", "--reply"])).stdout).toBe("25\n");
  });

  it("hands its partitions over on riff system stop, and another node's logs follow every node", async () => {
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = two(riff);
    const source = "module.exports = (x) => { console.error(`handled ${x} on ${process.env.RIFF_NODE_NAME}`); return x; }\n";
    expect((await createNode(riff, a, "tell", source, ["--input", "said", "--partitions", "4", "--min-replicas", "2"])).code).toBe(0);
    await bothHold(a, "tell");
    expect((await b.cli(["system", "stop"])).code).toBe(0);
    const stoppedAt = Date.now();
    // A clean stop ends its watches before their connection closes: nothing to warn about.
    expect(readFileSync(join(b.home, "daemon.log"), "utf8")).not.toContain("failed; opening it again");
    // Every key goes to node 1 at once, not after node 2's leases expire.
    const replies = await Promise.all([0, 1, 2, 3].map((k) => a.cli(["publish", "--input", "said", "--data", `k${k}`, "--header", `x-riff-key:key-${k}`, "--reply"])));
    expect(replies.map((r) => r.stdout)).toEqual(["k0\n", "k1\n", "k2\n", "k3\n"]);
    console.log(JSON.stringify({ test: "clean stop hands over", allKeysAnsweredAfterMs: Date.now() - stoppedAt }));
    // Node 1 tells a clean stop from a crash: node 2 said goodbye, so it "left".
    const left = await waitFor("node 1 no longer listing n2 as live", async () => (await listNodes(a)).find((n) => n.name === "n2" && n.health !== "ok"), { timeoutMs: 10_000 });
    expect(left.health).toBe("left");
    expect((await a.cli(["nodes"])).stdout).toMatch(/^n2\s+left [\d.]+(ms|s|m) ago\s/m);
    await b.restart();
    // Node 2 shows node 1's lines: in its history, and as they come.
    const history = await b.cli(["logs", "-n", "tell", "--tail", "50"]);
    expect(history.stdout).toMatch(/n1\/tell-1-\d+ stderr: handled k2 on n1/);
    const followed = waitForLog(b.home, "tell", /n1\/tell-1-\d+ stderr: handled later-\d+ on n1/);
    for (let k = 0; k < 8; k++) await a.cli(["publish", "--input", "said", "--data", `later-${k}`, "--header", `x-riff-key:later-${k}`]);
    expect(await followed.found).toMatch(/handled later-\d+ on n1/);
  });
});
