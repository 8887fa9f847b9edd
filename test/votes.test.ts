import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { RIFF_BIN, startRiff, type TailedMessage } from "./helpers/riff.js";

/** Follows `riff topics tail -f -o json` until `done(messages)` says enough. */
function tailUntil(home: string, topic: string, done: (ms: TailedMessage[]) => boolean): Promise<TailedMessage[]> {
  return new Promise((resolveAll, reject) => {
    const child = spawn(process.execPath, [RIFF_BIN, "topics", "tail", topic, "--from-beginning", "-f", "-o", "json"], {
      env: { ...process.env, RIFF_HOME: home },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const got: TailedMessage[] = [];
    let rest = "";
    let finished = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l) got.push(JSON.parse(l) as TailedMessage);
      if (!finished && done(got)) {
        finished = true;
        child.kill();
        resolveAll(got);
      }
    });
    child.once("exit", () => {
      if (!finished) reject(new Error(`tail of ${topic} ended after ${got.length} messages`));
    });
  });
}

interface Tally {
  start: number;
  end: number;
  total: number;
  counts: Record<string, number>;
}

describe("the votes example", () => {
  it("counts over a sliding window equal the counts computed from the published votes", async () => {
    await using riff = await startRiff();
    const dir = mkdtempSync(join(riff.work, "votes-"));
    cpSync(resolve(import.meta.dirname, "../examples/votes"), dir, { recursive: true });
    // Short durations for the test: 400 ms windows every 200 ms.
    const yaml = readFileSync(join(dir, "votes-function.yaml"), "utf8")
      .replace("VOTES_WINDOW: 60s", "VOTES_WINDOW: 400ms")
      .replace("VOTES_SLIDE: 2s", "VOTES_SLIDE: 200ms")
      .replace("VOTES_IDLE_FLUSH: 1s", "VOTES_IDLE_FLUSH: 300ms");
    writeFileSync(join(dir, "votes-function.yaml"), yaml);
    const applied = await riff.cli(["apply", "-f", dir]);
    expect(applied.stdout).toContain("function/votes created");

    const words = ["yes", "no", "maybe"];
    for (let i = 0; i < 120; i++) {
      const word = words[(i * 7) % 3] as string;
      const res = await fetch(`${riff.url}/messages/votes`, { method: "POST", body: word });
      expect(res.status).toBe(202);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    const votes = await tailUntil(riff.home, "votes", (ms) => ms.length >= 120);
    const times = votes.map((v) => v.timestamp);
    const lastVote = Math.max(...times);
    const tallies = (await tailUntil(riff.home, "vote-counts", (ms) => ms.some((m) => (JSON.parse(m.payload) as Tally).end > lastVote)))
      .map((m) => JSON.parse(m.payload) as Tally);

    expect(tallies.length).toBeGreaterThan(0);
    for (const t of tallies) {
      expect(t.end - t.start).toBe(400);
      const expected: Record<string, number> = {};
      votes.forEach((v, i) => {
        const ts = times[i] as number;
        if (ts >= t.start && ts < t.end) expected[v.payload] = (expected[v.payload] ?? 0) + 1;
      });
      expect(t.counts).toEqual(expected);
      expect(t.total).toBe(Object.values(expected).reduce((a, b) => a + b, 0));
    }
    // Every vote is counted in some window.
    const covered = times.filter((ts) => tallies.some((t) => ts >= t.start && ts < t.end));
    expect(covered).toHaveLength(120);
    rmSync(dir, { recursive: true, force: true });
  });
});
