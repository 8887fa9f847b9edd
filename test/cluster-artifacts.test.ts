import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactDigest } from "@riff/controller";
import { ClusterNode, resolveClusterOptions } from "@riff/cluster";
import { create } from "tar";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { startRiffCluster } from "./helpers/cluster.js";

// Code sent over the admin API (riff's CLI outside the cluster's pods) lands in the cluster's
// object store under the digest riff computes for the same folder, and any node fetches it.

async function pack(cwd: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of create({ cwd, gzip: true, portable: true }, ["."]) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("POST /api/v1/artifacts on a cluster node", () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startTestNatsServer();
  });
  afterAll(async () => nats.stop());

  it("stores an uploaded folder by its digest in the cluster's store, for every node", async () => {
    await using riff = await startRiffCluster({ servers: [nats.url], count: 1 });
    const [a] = riff.nodes;
    if (a === undefined) throw new Error("no node");
    const src = join(riff.work, "square");
    mkdirSync(join(src, "lib"), { recursive: true });
    writeFileSync(join(src, "square.js"), "module.exports = (x) => x ** 2\n");
    writeFileSync(join(src, "lib", "helper.js"), "exports.twice = (x) => 2 * x\n");
    const body = await pack(src);
    const token = readFileSync(join(a.home, "token"), "utf8").trim();

    const anonymous = await fetch(`${a.url}/api/v1/artifacts`, { method: "POST", body, headers: { "content-type": "application/gzip" } });
    expect(anonymous.status).toBe(401);
    const res = await fetch(`${a.url}/api/v1/artifacts`, { method: "POST", body, headers: { "content-type": "application/gzip", authorization: `Bearer ${token}` } });
    expect(res.status).toBe(201);
    const { digest, entry } = (await res.json()) as { digest: string; entry: string };
    expect(digest).toBe(artifactDigest(src));
    expect(entry).toBe("");

    // Another node of the same cluster, in this process, fetches it from the object store.
    const cache = mkdtempSync(join(tmpdir(), "riff-probe-"));
    const probe = await ClusterNode.open(resolveClusterOptions({ servers: [nats.url], cluster: riff.name, node: "probe", cacheDir: join(cache, "cache") }), { deliver: () => false });
    try {
      const out = join(cache, "out");
      mkdirSync(out);
      const fetched = await probe.artifacts.fetch(digest, out);
      expect(artifactDigest(fetched)).toBe(digest);
      expect(readFileSync(join(fetched, "lib", "helper.js"), "utf8")).toBe("exports.twice = (x) => 2 * x\n");
    } finally {
      await probe.stop();
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
