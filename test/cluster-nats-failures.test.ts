import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "nats";
import { describe, expect, it } from "vitest";
import { startTestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import { startRestartableNatsServer } from "../packages/broker-nats/src/restartable-server.test-util.js";
import { pollUntil } from "../packages/broker-nats/src/nats-server.test-util.js";
import { doubleOwnership, postMessages, readRecords, recorderSource, startRiffCluster, type RiffCluster, type RiffNode } from "./helpers/cluster.js";

// NATS itself failing under riff: a leader killed, the only server away for a minute, the
// metadata bucket lost, part of the cluster down while a node starts. riff keeps every
// acknowledged message, answers 503 (never 2xx) while it cannot store, and recovers by itself.

async function deploy(riff: RiffCluster, at: RiffNode, extra: string[] = []): Promise<void> {
  const dir = mkdtempSync(join(riff.work, "recorder-"));
  writeFileSync(join(dir, "recorder.js"), recorderSource(2));
  const r = await at.cli(["create", "node", "--name", "recorder", "--input", "work", "--output", "records", "--partitions", "4", "--filepath", dir, ...extra]);
  expect(r.code, r.stderr).toBe(0);
}

const log = (node: RiffNode) => readFileSync(join(node.home, "daemon.log"), "utf8");

describe("riff when NATS fails", () => {
  it("keeps every acknowledged message through kill -9 of a stream leader and then of the meta leader", { timeout: 180_000 }, async () => {
    await using nats = await startTestNatsCluster();
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = riff.nodes as [RiffNode, RiffNode];
    await deploy(riff, a, ["--min-replicas", "2"]);
    const stream = `${riff.name}_work_0`;
    const kills: { what: string; node: string; at: number; resumedAfterMs?: number }[] = [];
    let afterKill = 0;
    const stop = new AbortController();
    // Until both kills are behind it: then it stops.
    const load = postMessages({
      urls: () => [a.url, b.url],
      topic: "work",
      from: 0,
      to: 1_000_000,
      signal: stop.signal,
      concurrency: 8,
      key: (i) => `k${i % 32}`,
      acked: () => {
        const last = kills.at(-1);
        if (last !== undefined && last.resumedAfterMs === undefined) {
          last.resumedAfterMs = Date.now() - last.at;
          afterKill++;
        }
      },
    });
    // Once some messages are in: the stream's leader, then (after publishing resumed) the meta leader.
    await readRecords(a, "records", (rs) => rs.length >= 200).records;
    for (const what of ["stream leader", "meta leader"] as const) {
      const leader = what === "stream leader" ? await nats.streamLeader(stream) : await nats.metaLeader();
      const node = nats.nodeByName(leader);
      kills.push({ what, node: leader, at: Date.now() });
      await node.kill("SIGKILL");
      await pollUntil(`a publish acknowledged after the ${what} was killed`, async () => {
        if (kills.at(-1)?.resumedAfterMs === undefined) throw new Error("not yet");
      }, 60_000);
      await node.restart();
      await nats.ready();
    }
    stop.abort();
    const result = await load;
    const records = await readRecords(a, "records", (rs) => [...result.acked].every((id) => rs.some((r) => r.id === id))).records;
    const processed = new Set(records.map((r) => r.id));
    console.log(JSON.stringify({ test: "kill -9 of NATS leaders", acknowledged: result.acked.size, refused: result.refused, statuses: Object.fromEntries(result.statuses), lost: [...result.acked].filter((id) => !processed.has(id)).length, duplicates: records.length - processed.size, kills }));
    expect(afterKill).toBe(2);
    expect([...result.acked].filter((id) => !processed.has(id))).toEqual([]);
    // A refusal is a 503, never a 2xx for a message that was not stored, nor a 500.
    expect([...result.statuses.keys()].filter((s) => s !== 202 && s !== 503)).toEqual([]);
    expect(doubleOwnership(records)).toEqual([]);
    // Leaders re-elected are not buckets lost: no bucket was deleted here, so none was said to be.
    for (const node of [a, b]) expect(log(node)).not.toMatch(/a KV bucket is missing/);
  });

  it("answers 503 through a 60 s outage of its only NATS server, and recovers without a restart", { timeout: 180_000 }, async () => {
    await using server = await startRestartableNatsServer();
    await using riff = await startRiffCluster({ servers: [server.url], count: 2 });
    const [a, b] = riff.nodes as [RiffNode, RiffNode];
    const dir = mkdtempSync(join(riff.work, "square-"));
    writeFileSync(join(dir, "square.js"), "module.exports = (x) => x ** 2\n");
    expect((await a.cli(["create", "node", "--name", "square", "--input", "numbers", "--filepath", dir])).code).toBe(0);
    const nine = await a.cli(["publish", "--input", "numbers", "--data", "3", "--reply"]);
    expect(nine.stdout, nine.stderr).toBe("9\n");
    await server.kill("SIGKILL");
    const down = Date.now();
    const answers = new Map<string, number>();
    while (Date.now() - down < 60_000) {
      const res = await fetch(`${a.url}/messages/numbers`, { method: "POST", headers: { "content-type": "text/plain" }, body: "4" });
      const body = (await res.json()) as { error?: { code: string } };
      const key = `${res.status} ${body.error?.code ?? ""}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect([...answers.keys()]).toEqual(["503 RIFF_BROKER_UNAVAILABLE"]);
    expect((await fetch(`${a.url}/healthz`)).status).toBe(503);
    const list = await a.cli(["list"]);
    expect(list.stderr).toMatch(/NATS is unreachable since .*riff reconnects by itself/);
    expect((await a.cli(["describe", "function", "square"])).stderr).toMatch(/warning: NATS is unreachable since .*riff reconnects by itself/);
    // Cut off itself, a node cannot tell whether the other lives: it says so, not "gone".
    const nodes = await a.cli(["nodes"]);
    expect(nodes.stdout).toContain("this node cannot reach NATS, so it cannot tell whether the 1 other node(s) are alive");
    const rows = (JSON.parse((await a.cli(["nodes", "-o", "json"])).stdout) as { nodes: { name: string; health: string }[] }).nodes;
    expect(rows.map((r) => [r.name, r.health]).sort()).toEqual([[a.name, "nats-disconnected"], [b.name, "unknown"]]);
    await server.restart();
    await pollUntil("the node healthy again", async () => {
      if ((await fetch(`${a.url}/healthz`)).status !== 200) throw new Error("not yet");
    }, 60_000);
    expect((await a.cli(["publish", "--input", "numbers", "--data", "5", "--reply", "--timeout", "30s"])).stdout).toBe("25\n");
    expect(log(a)).toMatch(/lost the connection to NATS/);
    expect(log(a)).toMatch(/reconnected to NATS/);
    // Said once by the connection: no partition claim is tried, nor warned about, while NATS is away.
    expect(log(a).match(/claiming a partition failed/g) ?? []).toEqual([]);
    // Nor does the autoscaler warn each round that the broker is away.
    expect(log(a).match(/scaling failed/g) ?? []).toEqual([]);
    console.log(JSON.stringify({ test: "60 s NATS outage", answers: Object.fromEntries(answers) }));
  });

  it("never drops or recreates a stream holding messages when the topic metadata is lost", { timeout: 120_000 }, async () => {
    await using nats = await startTestNatsCluster();
    await using riff = await startRiffCluster({ servers: nats.urls, count: 2 });
    const [a, b] = riff.nodes as [RiffNode, RiffNode];
    await deploy(riff, a);
    const first = await postMessages({ urls: () => [a.url], topic: "work", from: 0, to: 40, concurrency: 4 });
    await readRecords(a, "records", (rs) => rs.length >= 40).records;
    const nc = await connect({ servers: nats.urls });
    try {
      const jsm = await nc.jetstreamManager();
      const streams = async () =>
        Object.fromEntries(await Promise.all([0, 1, 2, 3].map(async (p) => {
          const si = await jsm.streams.info(`${riff.name}_work_${p}`);
          return [p, { created: si.created, first: si.state.first_seq }] as const;
        })));
      const before = await streams();
      await jsm.streams.delete(`KV_${riff.name}_meta`);
      // The nodes keep publishing to the topic they have open.
      const more = await postMessages({ urls: () => [a.url, b.url], topic: "work", from: 40, to: 60, concurrency: 4 });
      expect(more.acked.size).toBe(20);
      // A node that starts again has no record of the topic: it refuses to make it anew.
      expect((await b.cli(["system", "stop"])).code).toBe(0);
      await b.restart();
      const created = await b.cli(["topics", "create", "work"]);
      expect(created.code).toBe(1);
      expect(created.stderr).toMatch(/topic 'work' has no record in riff, but its streams hold \d+ messages/);
      expect(created.stderr).toContain("riff topics recover work");
      expect(log(b)).toContain("\"code\":\"RIFF_TOPIC_UNRECORDED\"");
      // `riff list` names what lost its record: the input, and the output the recorder writes.
      expect((await b.cli(["list"])).stderr).toMatch(/warning: riff lost the record of topic 'records', 'work' \(\d+ messages kept in NATS\).*riff topics recover --all/);
      expect((await b.cli(["topics", "recover", "work"])).stdout).toMatch(/topic\/work recovered: 4 partition\(s\)/);
      expect(await streams()).toEqual(before);
      expect((await b.cli(["list"])).stderr).toMatch(/warning: riff lost the record of topic 'records' \(/);
      expect((await b.cli(["topics", "recover", "--all"])).stdout).toMatch(/^topic\/records recovered: /);
      expect((await b.cli(["list"])).stderr).not.toContain("warning");
      const records = await readRecords(a, "records", (rs) => [...first.acked, ...more.acked].every((id) => rs.some((r) => r.id === id))).records;
      expect(records.length).toBeGreaterThanOrEqual(60);
    } finally {
      await nc.close();
    }
  });

  it("starts a node while a NATS server is down; the node catches up when it is back", { timeout: 120_000 }, async () => {
    await using nats = await startTestNatsCluster();
    await using riff = await startRiffCluster({ servers: nats.urls, count: 1 });
    const [a] = riff.nodes as [RiffNode];
    await deploy(riff, a);
    const down = nats.servers[2];
    await down?.kill("SIGKILL");
    const c = await riff.add();
    const sent = await postMessages({ urls: () => [c.url], topic: "work", from: 0, to: 50, concurrency: 4 });
    expect(sent.acked.size).toBe(50);
    await readRecords(c, "records", (rs) => [...sent.acked].every((id) => rs.some((r) => r.id === id))).records;
    await down?.restart();
    await nats.ready();
    const nodes = JSON.parse((await c.cli(["nodes", "-o", "json"])).stdout) as { nodes: { name: string; health: string }[] };
    expect(nodes.nodes.map((n) => `${n.name} ${n.health}`).sort()).toEqual(["n1 ok", "n2 ok"]);
  });
});
