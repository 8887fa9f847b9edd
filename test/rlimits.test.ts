import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ask, deploy, forkBomb, running } from "./helpers/bombs.js";
import { deploy as deployFiles } from "./invokers-shared.js";
import { cli, RIFF_BIN, startRiff, type CliResult } from "./helpers/riff.js";

// `--limits rlimit`: memory and processes with rlimits, as where riff cannot write cgroups (the
// memory bomb under rlimits is in limits.test.ts, with the cgroup one); and `--limits cgroup`,
// which refuses to start where it cannot. See docs/security.md.

/** `riff ...args` in a mount namespace of its own where /sys/fs/cgroup is an empty tmpfs: no cgroup can be written. */
function withoutCgroups(home: string, args: string[]): Promise<CliResult> {
  const script = 'mount -t tmpfs riff-test /sys/fs/cgroup && exec "$0" "$@"';
  return new Promise((done) => {
    execFile("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, process.execPath, RIFF_BIN, ...args], { env: { ...process.env, RIFF_HOME: home } }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}

/** Runs `body` with a fresh home, removed afterwards. */
async function inFreshHome(body: (home: string) => Promise<void>): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), "riff-test-"));
  try {
    await body(home);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const RLIMITS = "rlimits (memory via RLIMIT_DATA, processes via RLIMIT_NPROC, per replica in a user namespace of its own; cpu not enforced)";

describe("--limits rlimit", () => {
  it("says rlimits are in force, and starts each replica's runtime with RLIMIT_DATA and RLIMIT_NPROC", async () => {
    await using riff = await startRiff(["--limits", "rlimit"]);
    expect((await riff.cli(["system", "status"])).stdout).toContain(`limits enforced by ${RLIMITS}`);
    expect(JSON.parse((await riff.cli(["system", "status", "-o", "json"])).stdout)).toMatchObject({ limits: RLIMITS });
    // A function with limits of its own gets a fresh process; one with the defaults may take a pooled one.
    const limitsOf = `module.exports = () => require("node:fs").readFileSync("/proc/self/limits", "utf8");\n`;
    await deploy(riff, "limited", limitsOf, ["--memory", "96Mi", "--pids", "64"]);
    await deploy(riff, "other", limitsOf, ["--memory", "128Mi", "--pids", "32"]);
    await deploy(riff, "defaults", limitsOf);
    const cases = [["limited", 96 * 1024 * 1024, 64], ["other", 128 * 1024 * 1024, 32], ["defaults", 512 * 1024 * 1024, 256]] as const;
    for (const [name, data, procs] of cases) {
      const limits = String((await ask(riff, `${name}-in`)).body);
      expect(limits).toMatch(new RegExp(`Max data size\\s+${data}\\s+${data}\\s+bytes`));
      expect(limits).toMatch(new RegExp(`Max processes\\s+${procs}\\s+${procs}\\s+processes`));
    }
    expect((await riff.cli(["describe", "function", "limited"])).stdout).toContain(`enforced by ${RLIMITS}`);
  });

  it("runs a JVM under riff's default limits (512Mi of RLIMIT_DATA, 256 processes)", async () => {
    await using riff = await startRiff(["--limits", "rlimit"]);
    const source = "import java.util.function.Function;\npublic class Upper implements Function<String, String> {\n  public String apply(String s) { return s.toUpperCase(); }\n}\n";
    const d = await deployFiles(riff, "java", "upper", { "Upper.java": source });
    expect(d.code, d.stderr).toBe(0);
    expect((await ask(riff, "upper-in", "jvm")).body).toBe("JVM");
  });

  it("holds a fork bomb to its own replica's process limit: other replicas still start, and the bomb's processes go with riff delete", async () => {
    await using riff = await startRiff(["--limits", "rlimit"]);
    const marker = `riff-rfork-${process.pid}-${Date.now()}`;
    await deploy(riff, "forker", forkBomb(marker), ["--pids", "64"]);
    const bombed = await ask(riff, "forker-in", "bomb");
    // Under rlimits riff cannot tell a refused fork from any other error of the function's: the
    // function gets EAGAIN, and the message its own error.
    expect(bombed.status).toBe(500);
    expect(bombed.body).toMatchObject({ error: { code: "RIFF_FUNCTION_ERROR", message: expect.stringContaining("EAGAIN") } });
    const held = running(marker);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(64);
    // The bomb's processes still run, and fill the forker's count, not the uid's: a new replica
    // of another function with the same limit starts and answers.
    await deploy(riff, "bystander", "module.exports = (x) => x;\n", ["--pids", "64"]);
    expect((await ask(riff, "bystander-in", "after")).body).toBe("after");
    expect((await riff.cli(["delete", "forker"])).code).toBe(0);
    while (running(marker) > 0) await new Promise((r) => setTimeout(r, 50));
    expect((await ask(riff, "bystander-in", "still")).body).toBe("still");
  });
});

describe("--limits", () => {
  it("cgroup: uses cgroups where riff can write them, and says so", async () => {
    await using riff = await startRiff(["--limits", "cgroup"]);
    expect((await riff.cli(["system", "status"])).stdout).toContain("limits enforced by cgroup v1 (memory, pids, cpu)");
  });

  it("cgroup: refuses to start where no cgroup can be written, naming the flag; auto then takes rlimits", async () => {
    await inFreshHome(async (home) => {
      const refused = await withoutCgroups(home, ["system", "start", "--port", "0", "--limits", "cgroup"]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("--limits cgroup: riff cannot write any cgroup here");
      expect(refused.stderr).toContain("RIFF_LIMITS_UNAVAILABLE");
      const started = await withoutCgroups(home, ["system", "start", "--port", "0"]);
      expect(started.code, started.stderr).toBe(0);
      try {
        expect((await cli(home, ["system", "status"])).stdout).toContain(`limits enforced by ${RLIMITS}`);
      } finally {
        expect((await cli(home, ["system", "stop"])).code).toBe(0);
      }
    });
  });

  it("refuses an unknown value, naming the flag", async () => {
    await inFreshHome(async (home) => {
      const r = await cli(home, ["system", "start", "--port", "0", "--limits", "cgroups"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("--limits");
      expect(r.stderr).toContain("auto, cgroup, rlimit, none");
    });
  });
});
