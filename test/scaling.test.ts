import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, waitForLogCount, type RiffFixture } from "./helpers/riff.js";
import { startSideChannel } from "./helpers/side-channel.js";

async function publishMany(riff: RiffFixture, topic: string, n: number): Promise<void> {
  const window = 64;
  for (let i = 0; i < n; i += window) {
    await Promise.all(
      Array.from({ length: Math.min(window, n - i) }, async (_, j) => {
        const res = await fetch(`${riff.url}/messages/${topic}`, { method: "POST", body: `m${i + j}` });
        expect(res.status).toBe(202);
      }),
    );
  }
}

interface Described {
  decisions: { to: number }[];
  replicas: unknown[];
}

const describeFn = async (riff: RiffFixture, name: string) =>
  JSON.parse((await riff.cli(["describe", "function", name, "-o", "json"])).stdout) as Described;

describe("autoscaling", () => {
  it("a backlog of 2,000 on 4 partitions scales to 4, drains with nothing lost or doubled, and returns to 0", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    const source = `module.exports = async (x) => {
  await new Promise((r) => setTimeout(r, 20));
  await fetch("${channel.url}/lines/seen", { method: "POST", body: x });
  return x;
};
`;
    expect((await riff.cli(["topics", "create", "work", "--partitions", "4"])).code).toBe(0);
    const d = await deployNode(riff, "worker", source, ["--input", "work", "--idle-timeout", "1s"]);
    expect(d.code).toBe(0);
    await publishMany(riff, "work", 2000);
    const lines = await channel.waitFor("seen", (l) => l.length >= 2000);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    expect(counts.size).toBe(2000);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    const started = (await riff.cli(["logs", "-n", "worker"])).stdout.match(/replica started/g)?.length ?? 0;
    const described = await describeFn(riff, "worker");
    expect(Math.max(...described.decisions.map((x) => x.to))).toBe(4);
    await waitForLogCount(riff.home, "worker", /stopping replica/, started);
    expect((await describeFn(riff, "worker")).replicas).toEqual([]);
    expect(channel.lines("seen")).toHaveLength(2000);
  });

  it("maxReplicas 2 never runs more than 2; minReplicas 1 never reaches 0", async () => {
    await using riff = await startRiff();
    expect((await riff.cli(["topics", "create", "jobs", "--partitions", "4"])).code).toBe(0);
    const slow = "module.exports = async (x) => { await new Promise((r) => setTimeout(r, 10)); return x; };\n";
    expect((await deployNode(riff, "capped", slow, ["--input", "jobs", "--max-replicas", "2", "--idle-timeout", "300ms"])).code).toBe(0);
    expect((await deployNode(riff, "warm", slow, ["--input", "pings", "--min-replicas", "1", "--idle-timeout", "300ms"])).code).toBe(0);
    expect((await deployNode(riff, "cold", slow, ["--input", "pings", "--idle-timeout", "300ms"])).code).toBe(0);
    await publishMany(riff, "jobs", 400);
    await publishMany(riff, "pings", 10);
    // Wait until "capped" and "cold" have scaled to zero: "warm" has had the same idle time.
    await waitForLogCount(riff.home, "cold", /stopping replica/, 1);
    const cappedStarts = (await riff.cli(["logs", "-n", "capped"])).stdout.match(/replica started/g)?.length ?? 0;
    await waitForLogCount(riff.home, "capped", /stopping replica/, cappedStarts);
    const capped = await describeFn(riff, "capped");
    expect(Math.max(...capped.decisions.map((x) => x.to))).toBe(2);
    const warm = await describeFn(riff, "warm");
    expect(warm.replicas).toHaveLength(1);
    expect(warm.decisions.every((x) => x.to >= 1)).toBe(true);
  });
});
