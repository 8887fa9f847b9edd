import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startRiff, waitForLogCount, type RiffFixture } from "./helpers/riff.js";

// The README's walkthrough, step by step, through the built CLI.
describe("the walkthrough", () => {
  let riff: RiffFixture;
  let work: string;

  beforeAll(async () => {
    riff = await startRiff();
    work = mkdtempSync(join(tmpdir(), "riff-work-"));
    writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** 2\n");
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  it("system start prints the gateway URL, and a second start says it is already running", async () => {
    expect(riff.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const again = await riff.cli(["system", "start"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(again.stdout.trim()).toBe(riff.url);
  });

  it("create writes the YAML next to the code and deploys it", async () => {
    const r = await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "--filepath", "."], work);
    expect(r.stderr).not.toContain("Error");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("function/square created");
    expect(existsSync(join(work, "square-function.yaml"))).toBe(true);
    expect(readFileSync(join(work, "square-topics.yaml"), "utf8")).toContain("name: numbers");
  });

  it("publish --reply prints exactly the reply", async () => {
    const r = await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"], work);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("100\n");
    expect(r.stderr).toContain(`Posting to ${riff.url}/requests/numbers`);
  });

  it("publish without --reply says where the message went", async () => {
    const r = await riff.cli(["publish", "--input", "numbers", "--data", "10"], work);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/published to topic numbers, partition 0, offset \d+/);
  });

  it("list shows the function, its input and one replica", async () => {
    const r = await riff.cli(["list"]);
    expect(r.stdout).toMatch(/square\s+node\s+numbers\s+-\s+running\s+1/);
    const json = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; replicas: unknown[] }[];
    expect(json.map((f) => [f.name, f.replicas.length])).toEqual([["square", 1]]);
  });

  it("logs show the replica's life", async () => {
    const r = await riff.cli(["logs", "-n", "square"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replica started \(pid \d+, revision 1\)/);
  });

  it("update rolls out changed code", async () => {
    writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** 3\n");
    // Without a name: the folder's only square-function.yaml names it.
    const u = await riff.cli(["update"], work);
    expect(u.stdout).toContain("function/square updated (revision 2)");
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("1000\n");
  });

  it("an update that cannot start is refused, and the running revision keeps serving", async () => {
    writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** ;\n");
    const u = await riff.cli(["update", "-n", "square"]);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain("revision 3 failed to start, so revision 2 keeps serving");
    expect(u.stderr).toContain("SyntaxError");
    expect(u.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("1000\n");
    const [fn] = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { revision: number; status: string }[];
    expect([fn?.revision, fn?.status]).toEqual([2, "running"]);
  });

  it("delete --all removes the function and its topics", async () => {
    const r = await riff.cli(["delete", "--all", "square"]);
    expect(r.stdout).toBe("function/square deleted\ntopic/numbers deleted\ntopic/square-dead-letters deleted\n");
    expect((await riff.cli(["list", "-o", "json"])).stdout.trim()).toBe("[]");
    const t = JSON.parse((await riff.cli(["topics", "list", "-o", "json"])).stdout) as unknown[];
    expect(t).toEqual([]);
  });

  it("system stop stops it, and commands then say how to start it", async () => {
    const stop = await riff.cli(["system", "stop"]);
    expect(stop.code).toBe(0);
    const r = await riff.cli(["list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("riff is not running");
    expect(r.stderr).toContain("riff system start");
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    // Asked with --home, the hint names that home: without it, the line would start another riff.
    const elsewhere = mkdtempSync(join(tmpdir(), "riff-other-home-"));
    try {
      const flagged = await cli(elsewhere, ["--home", riff.home, "list"]);
      expect(flagged.stderr).toContain(`start it with \`riff system start --home ${riff.home}\`; if it stopped by itself, ${join(riff.home, "daemon.log")} says why`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe("scaling to zero", () => {
  it("stops the replica after the idle timeout and starts one on the next message", async () => {
    await using riff = await startRiff();
    const work = mkdtempSync(join(riff.work, "square-"));
    writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** 2\n");
    const c = await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "--idle-timeout", "300ms"], work);
    expect(c.code).toBe(0);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "4", "--reply"])).stdout).toBe("16\n");
    // The replica started by create may already have been stopped for idleness before the
    // publish came, and another started for it: wait until every replica started has stopped.
    const started = (await riff.cli(["logs", "-n", "square"])).stdout.match(/replica started/g)?.length ?? 0;
    expect(started).toBeGreaterThan(0);
    await waitForLogCount(riff.home, "square", /stopping replica/, started);
    const json = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { replicas: unknown[] }[];
    expect(json[0]?.replicas).toEqual([]);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "5", "--reply"])).stdout).toBe("25\n");
    rmSync(work, { recursive: true, force: true });
  });
});
