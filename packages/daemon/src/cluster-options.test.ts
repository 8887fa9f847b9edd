import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RiffError } from "@riff/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { homePaths, resolveDaemonOptions, type DaemonOptions } from "./options.js";

/** The RiffError `resolveDaemonOptions` throws for `options`, or undefined. */
function refusal(options: DaemonOptions): RiffError | undefined {
  try {
    resolveDaemonOptions(options);
    return undefined;
  } catch (err) {
    if (err instanceof RiffError) return err;
    throw err;
  }
}

// The cluster flags of `riff system start`, checked before anything connects: what would be
// dropped or misread is refused, naming the flag.
describe("a cluster node's start flags", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "riff-cluster-options-"));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it("takes a comma-separated list of nats:// and tls:// URLs, with credentials and IPv6 hosts", () => {
    const o = resolveDaemonOptions({ home, cluster: "nats://a:4222, tls://u:p@b:4222,nats://[::1]:4222/", nodeName: "n1" });
    expect(o.cluster?.servers).toEqual(["nats://a:4222", "tls://u:p@b:4222", "nats://[::1]:4222/"]);
  });

  it("refuses a list joined with ';' or ' ', a path, a port out of range, and another scheme", () => {
    for (const cluster of ["nats://a:4222;nats://b:4222", "nats://a:4222 nats://b:4222", "nats://a:4222/x", "nats://a:99999", "http://a:4222", "nats://:4222"]) {
      const err = refusal({ home, cluster });
      expect([cluster, err?.code, err?.details?.["field"]]).toEqual([cluster, "RIFF_INVALID_ARGUMENT", "cluster"]);
      expect(err?.hint).toContain("separated by commas");
    }
    // Each says what is wrong with which URL.
    expect(refusal({ home, cluster: "nats://a:4222,nats://b:99999" })?.message).toBe("--cluster nats://b:99999: not a NATS URL (port 99999 is out of range (1 to 65535))");
    expect(refusal({ home, cluster: "http://a:4222" })?.message).toContain("(it does not start with nats:// or tls://)");
    expect(refusal({ home, cluster: "nats://a:4222/x" })?.message).toContain("(a server's URL has no path, query or fragment)");
  });

  it("refuses --node-name, --cluster-name and --replicas on a start that joins no cluster", () => {
    for (const [options, field] of [
      [{ nodeName: "n1" }, "node-name"],
      [{ clusterName: "blue" }, "cluster-name"],
      [{ replicas: 3 }, "replicas"],
      [{ broker: "nats://a:4222", nodeName: "n1" }, "node-name"],
    ] as const) {
      const err = refusal({ home, ...options });
      expect(err?.code).toBe("RIFF_INVALID_ARGUMENT");
      expect(err?.details?.["field"]).toBe(field);
      expect(err?.message).toContain("joins no cluster");
      expect(err?.hint).toContain("--cluster nats://");
    }
    // --broker keeps its own list of servers.
    expect(resolveDaemonOptions({ home, broker: "nats://a:4222,nats://b:4222" }).broker).toBe("nats://a:4222,nats://b:4222");
  });

  it("refuses --replicas other than 1 or 3, also on a start that rejoins the cluster its home remembers", () => {
    expect(refusal({ home, cluster: "nats://a:4222", replicas: 2 })?.details?.["field"]).toBe("replicas");
    writeFileSync(homePaths(home).clusterChoice, JSON.stringify({ servers: ["nats://a:4222"], name: "riff", node: "n1", nats: {} }));
    expect(resolveDaemonOptions({ home }).cluster?.node).toBe("n1");
    expect(refusal({ home, replicas: 2 })?.details?.["field"]).toBe("replicas");
    // With a cluster remembered, the node's flags apply to it.
    expect(resolveDaemonOptions({ home, nodeName: "n2", replicas: 1 }).cluster).toMatchObject({ node: "n2", replicas: 1 });
  });

  it("notes a start that takes its home to another cluster, and only that", () => {
    writeFileSync(homePaths(home).clusterChoice, JSON.stringify({ servers: ["nats://a:4222"], name: "blue", node: "n1", nats: {} }));
    expect(resolveDaemonOptions({ home }).notes).toEqual([]);
    expect(resolveDaemonOptions({ home, cluster: "nats://a:4222", nodeName: "n2" }).notes).toEqual([]);
    const [note, ...more] = resolveDaemonOptions({ home, cluster: "nats://a:4222", clusterName: "green" }).notes;
    expect(more).toEqual([]);
    expect(note).toBe(
      "this home last ran as node n1 of cluster blue; it now joins cluster green as node n1: it sees green's functions, topics and admin token, and blue's stay on NATS (start with --cluster-name blue to go back)",
    );
    expect(resolveDaemonOptions({ home, clusterName: "green" }).notes).toHaveLength(1);
    // A home that never joined a cluster has nothing to switch from.
    rmSync(homePaths(home).clusterChoice);
    expect(resolveDaemonOptions({ home, cluster: "nats://a:4222", clusterName: "green" }).notes).toEqual([]);
  });
});
