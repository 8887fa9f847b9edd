import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ask, deploy, forkBomb, MEMORY_BOMB, running } from "./helpers/bombs.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff } from "./helpers/riff.js";

// Limits are enforced with the cgroup controllers riff can write (v1 memory, pids and cpu on
// these machines, as root). A bomb kills only its own replica, and its message gets the code.

/** The value of `file` in the v1 cgroup of `controller` that process `pid` is in. */
function cgroupValue(pid: number, controller: string, file: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.split(":")[1]?.split(",").includes(controller));
  if (line === undefined) throw new Error(`process ${pid} is in no ${controller} cgroup`);
  return readFileSync(`/sys/fs/cgroup/${controller}${line.split(":")[2]}/${file}`, "utf8").trim();
}

describe("limits", () => {
  it("writes each replica's memory, process and CPU limits in its own cgroups, and says what enforces them", async () => {
    await using riff = await startRiff();
    await deploy(riff, "limited", "module.exports = (x) => x;\n", ["--memory", "96Mi", "--pids", "64", "--cpu", "500m"]);
    await deploy(riff, "defaults", "module.exports = (x) => x;\n");
    expect((await ask(riff, "limited-in")).status).toBe(200);
    expect((await ask(riff, "defaults-in")).status).toBe(200);
    const pidOf = async (name: string) => (JSON.parse((await riff.cli(["describe", "function", name, "-o", "json"])).stdout) as { replicas: { pid: number }[] }).replicas[0]?.pid as number;
    const limited = await pidOf("limited");
    expect(cgroupValue(limited, "memory", "memory.limit_in_bytes")).toBe(String(96 * 1024 * 1024));
    expect(cgroupValue(limited, "pids", "pids.max")).toBe("64");
    expect(cgroupValue(limited, "cpu", "cpu.cfs_quota_us")).toBe("50000");
    const defaults = await pidOf("defaults");
    expect(cgroupValue(defaults, "memory", "memory.limit_in_bytes")).toBe(String(512 * 1024 * 1024));
    expect(cgroupValue(defaults, "pids", "pids.max")).toBe("256");
    const described = (await riff.cli(["describe", "function", "limited"])).stdout;
    expect(described).toContain("limits memory 96Mi, pids 64, cpu 0.5, enforced by cgroup v1 (memory, pids, cpu)");
  });

  // The same bomb under cgroups (the default here), under rlimits in the sandbox, and under rlimits without it.
  for (const flags of [[], ["--limits", "rlimit"], ["--limits", "rlimit", "--sandbox", "none"]]) {
    it(`kills only the replica of a memory bomb: its message gets RIFF_OUT_OF_MEMORY, and describe says why (${flags.join(" ") || "cgroups"})`, async () => {
      await using riff = await startRiff(flags);
      await deploy(riff, "hog", MEMORY_BOMB, ["--memory", "64Mi"]);
      await deploy(riff, "bystander", "module.exports = (x) => x;\n");
      expect((await ask(riff, "bystander-in", "before")).body).toBe("before");
      const bombed = await ask(riff, "hog-in", "bomb");
      expect(bombed.status).toBe(502);
      expect(bombed.body).toMatchObject({ error: { code: "RIFF_OUT_OF_MEMORY" } });
      expect((await riff.cli(["describe", "function", "hog"])).stdout).toMatch(/last exit: hog-1-\d+ [^,]*: out of memory \(spec\.resources\.memory\)/);
      // The daemon, the other function and the next replica of the same one go on.
      expect((await ask(riff, "bystander-in", "after")).body).toBe("after");
      expect((await ask(riff, "hog-in", "small")).body).toBe("fine");
    });
  }

  it("stops a fork bomb at the process limit: RIFF_PROCESS_LIMIT, and everything it started is gone", async () => {
    await using riff = await startRiff();
    const marker = `riff-fork-${process.pid}-${Date.now()}`;
    await deploy(riff, "forker", forkBomb(marker), ["--pids", "64"]);
    const bombed = await ask(riff, "forker-in", "bomb");
    expect(bombed.status).toBe(502);
    expect(bombed.body).toMatchObject({ error: { code: "RIFF_PROCESS_LIMIT" } });
    // The replica is killed with all it started: its processes go (the kill takes a moment).
    while (running(marker) > 0) await new Promise((r) => setTimeout(r, 50));
    expect((await ask(riff, "forker-in", "small")).body).toBe("fine");
  });
});

describe("cgroups left behind", () => {
  it("are removed at start when the daemon that made them is gone", async () => {
    // A cgroup named as riff names them, after a pid that runs nothing (pid_max is far lower).
    const stale = "/sys/fs/cgroup/pids/riff/2147483646-1";
    mkdirSync(stale, { recursive: true });
    expect(existsSync(stale)).toBe(true);
    await using riff = await startRiff();
    expect(existsSync(stale)).toBe(false);
    expect((await riff.cli(["system", "status"])).code).toBe(0);
  });
});

describe("a replica that keeps crashing", () => {
  it("backs off 1 s, doubling, shows as crash-looping, and heals with a fixed revision", async () => {
    await using riff = await startRiff();
    // Loads fine, then dies shortly after: every replica crashes on its own.
    const d = await deployNode(riff, "crashy", "setTimeout(() => process.exit(7), 50);\nmodule.exports = (x) => x;\n", ["--input", "crashy-in", "--min-replicas", "1"]);
    expect(d.code, d.stderr).toBe(0);
    const status = async () => (JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; status: string }[]).find((f) => f.name === "crashy")?.status;
    for (let seen = await status(); seen !== "crash-looping"; seen = await status()) await new Promise((r) => setTimeout(r, 100));
    const logs = (await riff.cli(["logs", "-n", "crashy"])).stdout;
    expect(logs).toContain("1 crash(es) in a row: the next replica starts in 1 s");
    expect(logs).toContain("2 crash(es) in a row: the next replica starts in 2 s");
    expect(logs).toContain("3 crash(es) in a row: the next replica starts in 4 s (crash-looping)");
    expect((await riff.cli(["describe", "function", "crashy"])).stdout).toMatch(/last exit: crashy-1-\d+ exit code 7/);
    // A fixed revision starts afresh.
    writeFileSync(join(d.dir, "crashy.js"), "module.exports = (x) => 'fixed ' + x;\n");
    expect((await riff.cli(["update", "-n", "crashy"], d.dir)).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "crashy-in", "--data", "x", "--reply"])).stdout).toBe("fixed x\n");
    expect(await status()).toBe("running");
  });
});
