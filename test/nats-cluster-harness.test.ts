import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { connect, StringCodec, type JetStreamManager, type NatsConnection } from "nats";
import { describe, expect, it } from "vitest";
import { startTestNatsCluster } from "../packages/broker-nats/src/nats-cluster.test-util.js";
import { pollUntil } from "../packages/broker-nats/src/nats-server.test-util.js";
import { createNetworkTopology, type NetworkTopology } from "./helpers/netns.js";

// Proves the harness later cluster tests stand on: a real 3-node JetStream cluster that
// survives kill -9 of a stream leader, and network namespaces in which a node's link can be cut.
const sc = StringCodec();
const REPO = resolve(import.meta.dirname, "..");
const ELECTION_TIMEOUT_MS = 20_000;

/** The payloads of messages 1..n of `stream`, each asked of the stream's leader. */
async function readAll(jsm: JetStreamManager, stream: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let seq = 1; seq <= n; seq++) out.push(sc.decode((await jsm.streams.getMessage(stream, { seq })).data));
  return out;
}

async function withClient<T>(servers: string[], use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  // Reconnects quickly and forever, so a kill -9 of the server it is on is a pause, not an end.
  const nc = await connect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100, timeout: 2_000 });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

describe("a 3-node nats-server cluster on loopback", () => {
  it("keeps an R3 stream's messages across kill -9 of its leader, elects another, takes the node back", async () => {
    await using cluster = await startTestNatsCluster();
    expect(cluster.servers.map((s) => s.name)).toEqual(["n1", "n2", "n3"]);
    expect(cluster.url).toBe(cluster.urls.join(","));
    const hostPorts = cluster.urls.map((u) => u.replace("nats://", ""));
    expect(["n1", "n2", "n3"]).toContain(await cluster.metaLeader());

    await withClient(cluster.urls, async (nc) => {
      // Each server tells clients of the others, so a client given one URL still fails over.
      expect([...(nc.info?.connect_urls ?? [])].sort()).toEqual([...hostPorts].sort());
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "HARNESS", subjects: ["harness.>"], num_replicas: 3 });
      const js = nc.jetstream();
      const sent = Array.from({ length: 20 }, (_, i) => `m${i + 1}`);
      for (const m of sent) await js.publish("harness.m", sc.encode(m));
      expect(await readAll(jsm, "HARNESS", 20)).toEqual(sent);

      const leader = await cluster.streamLeader("HARNESS");
      expect(["n1", "n2", "n3"]).toContain(leader);
      expect((await jsm.streams.info("HARNESS")).cluster?.leader).toBe(leader);

      const victim = cluster.nodeByName(leader);
      const pid = victim.pid;
      await victim.kill();
      expect(victim.running).toBe(false);
      expect(() => process.kill(pid, 0)).toThrow();
      const next = await pollUntil(
        `a stream leader other than ${leader}`,
        async () => {
          const name = await cluster.streamLeader("HARNESS");
          if (name === leader) throw new Error(`still ${name}`);
          return name;
        },
        ELECTION_TIMEOUT_MS,
      );
      expect(cluster.nodeByName(next).running).toBe(true);
      expect(await readAll(jsm, "HARNESS", 20)).toEqual(sent);
      expect((await js.publish("harness.m", sc.encode("after"))).seq).toBe(21);

      await victim.restart();
      expect(victim.running).toBe(true);
      expect(victim.pid).not.toBe(pid);
      await cluster.ready();
    });
    await cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
  });
});

/** The script a "remote host" runs: connect, publish one message, print its sequence. */
const PUBLISHER = `
const { connect } = require("nats");
const [url, subject, body] = process.argv.slice(1);
setTimeout(() => { console.error("gave up after 8 s"); process.exit(3); }, 8000).unref();
connect({ servers: url.split(","), timeout: 1000, maxReconnectAttempts: 0 })
  .then(async (nc) => {
    const ack = await nc.jetstream().publish(subject, new TextEncoder().encode(body));
    console.log(ack.seq);
    await nc.close();
  })
  .catch((e) => { console.error(e.code ?? "", e.message); process.exit(1); });
`;

/** Runs {@link PUBLISHER} with node's own binary inside node k's namespace. */
function publishFrom(topology: NetworkTopology, k: number, url: string, body: string) {
  const netns = topology.nodes[k - 1]?.netns ?? "";
  const child = topology.exec(netns, process.execPath, ["-e", PUBLISHER, url, "edge.in", body], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => child.once("close", (code) => done({ code, stdout, stderr })));
}

const namespaceList = () => execFileSync("ip", ["netns", "list"], { encoding: "utf8" });

describe("a cluster inside a hub namespace, clients in node namespaces", () => {
  it("serves node 1 until its link is cut, and again once it is restored", async () => {
    await using topology = await createNetworkTopology({ nodes: 2, tag: "hx" });
    await using cluster = await startTestNatsCluster({ netns: topology.hub.netns, host: topology.hub.ip });
    for (const s of cluster.servers) {
      expect(s.url).toMatch(new RegExp(`^nats://${topology.hub.ip.replaceAll(".", "\\.")}:\\d+$`));
      // The pid `ip netns exec` was spawned with is the server itself: kill -9 hits the server.
      expect(readFileSync(`/proc/${s.pid}/comm`, "utf8").trim()).toBe("nats-server");
    }
    // The test process, in the root namespace, reaches the hub too.
    await withClient(cluster.urls, async (nc) => {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: "EDGE", subjects: ["edge.>"], num_replicas: 3 });
    });

    const first = await publishFrom(topology, 1, cluster.url, "n1-before");
    expect(first, first.stderr).toMatchObject({ code: 0, stdout: "1\n" });

    await topology.cut(1);
    expect(topology.isolated(1)).toBe(true);
    const cut = await publishFrom(topology, 1, cluster.url, "n1-cut");
    expect(cut.code, cut.stdout).not.toBe(0);
    expect(cut.stderr).toMatch(/TIMEOUT|CONNECTION_REFUSED|EHOSTUNREACH|ENETUNREACH|ECONNREFUSED/);
    // Only node 1 is cut off: node 2 still gets through.
    const other = await publishFrom(topology, 2, cluster.url, "n2-during");
    expect(other, other.stderr).toMatchObject({ code: 0, stdout: "2\n" });

    await topology.restore(1);
    expect(topology.isolated(1)).toBe(false);
    const again = await publishFrom(topology, 1, cluster.url, "n1-after");
    expect(again, again.stderr).toMatchObject({ code: 0, stdout: "3\n" });
    await withClient(cluster.urls, async (nc) => {
      expect(await readAll(await nc.jetstreamManager(), "EDGE", 3)).toEqual(["n1-before", "n2-during", "n1-after"]);
    });

    await cluster.stop();
    await topology.destroy();
    expect(namespaceList()).not.toContain(topology.id);
  });
});
