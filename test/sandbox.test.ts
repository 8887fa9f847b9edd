import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { RIFF_BIN, startRiff, type RiffFixture } from "./helpers/riff.js";
import { pooledProcessWaiting } from "./helpers/pool.js";
import { until } from "./helpers/until.js";

/** The riff checkout these tests run from: a function sees its packages (the shims), not the rest. */
const CHECKOUT = dirname(import.meta.dirname);

// Needs bubblewrap (.ci/run installs it): riff refuses to start without it, so every test here
// fails, naming it, where it is missing. Each rule of docs/security.md is a function trying to
// break it.

/** POSTs `body` to `/requests/TOPIC`; returns the status and the answer (parsed when it is JSON). */
async function ask(riff: RiffFixture, topic: string, body = "x"): Promise<{ status: number; json: Record<string, unknown> | string }> {
  const res = await fetch(`${riff.url}/requests/${topic}`, { method: "POST", body, headers: { "content-type": "text/plain" } });
  const text = await res.text();
  return { status: res.status, json: res.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as Record<string, unknown>) : text };
}

async function deploy(riff: RiffFixture, name: string, source: string, flags: string[] = []): Promise<void> {
  const d = await deployNode(riff, name, source, ["--input", `${name}-in`, ...flags]);
  expect(d.code, d.stderr).toBe(0);
}

/** Whether a process whose command line contains `marker` runs on the host. */
function running(marker: string): boolean {
  try {
    return execFileSync("pgrep", ["-f", marker]).toString().trim() !== "";
  } catch {
    return false;
  }
}

const TRY = `const fs = require("node:fs");
const tryRead = (p) => { try { fs.readFileSync(p); return "read"; } catch (e) { return e.code; } };
const tryList = (p) => { try { return fs.readdirSync(p); } catch (e) { return e.code; } };
const tryWrite = (p) => { try { fs.writeFileSync(p, "x"); return "written"; } catch (e) { return e.code; } };
`;

describe("the sandbox", () => {
  it("runs a function as an unprivileged user that sees only its runtime, its code and a private /tmp and home", async () => {
    await using riff = await startRiff();
    await deploy(riff, "other", "module.exports = (x) => x;\n");
    await deploy(
      riff,
      "probe",
      `${TRY}const os = require("node:os");
module.exports = () => ({
  uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(),
  setuid: (() => { try { process.setuid(0); return "became root"; } catch (e) { return e.code; } })(),
  shadow: tryRead("/etc/shadow"), sshd: tryList("/etc/ssh"),
  root: tryList("/root/.ssh"), hostHome: tryList("/home"), myHome: os.homedir(),
  token: tryRead(${JSON.stringify(`${riff.home}/token`)}),
  topics: tryList(${JSON.stringify(`${riff.home}/topics`)}),
  otherCode: tryRead(${JSON.stringify(`${riff.home}/functions/other/rev-1/other.js`)}),
  daemonEnv: tryRead("/proc/${riff.pid()}/environ"),
  work: tryList(${JSON.stringify(riff.work)}),
  history: tryList(${JSON.stringify(join(CHECKOUT, ".git"))}), tests: tryList(${JSON.stringify(join(CHECKOUT, "test"))}),
  manifest: tryRead(${JSON.stringify(join(CHECKOUT, "package.json"))}),
  ownFolder: tryWrite("mine.txt"), etc: tryWrite("/etc/riff-was-here"),
  tmp: tryWrite("/tmp/scratch"), home: tryWrite(os.homedir() + "/scratch"),
});
`,
    );
    const { status, json } = await ask(riff, "probe-in");
    expect(status).toBe(200);
    expect(json).toEqual({
      uid: 61000,
      gid: 61000,
      groups: [61000],
      setuid: "EPERM",
      shadow: "ENOENT",
      sshd: "ENOENT",
      root: "ENOENT",
      hostHome: ["riff"],
      myHome: "/home/riff",
      token: "ENOENT",
      topics: "ENOENT",
      otherCode: "ENOENT",
      daemonEnv: "ENOENT",
      work: "ENOENT",
      history: "ENOENT",
      tests: "ENOENT",
      manifest: "ENOENT",
      ownFolder: "EROFS",
      etc: "EACCES",
      tmp: "written",
      home: "written",
    });
    const status2 = await riff.cli(["system", "status"]);
    expect(status2.stdout).toContain("sandbox: bwrap (uid 61000)");
  });

  it("keeps one replica's /tmp and home from another's", async () => {
    await using riff = await startRiff();
    await deploy(riff, "writer", `const fs = require("node:fs");\nmodule.exports = () => { fs.writeFileSync("/tmp/left-by-writer", "secret"); fs.writeFileSync(require("node:os").homedir() + "/left", "secret"); return "ok"; };\n`);
    await deploy(riff, "reader", `${TRY}module.exports = () => ({ tmp: tryRead("/tmp/left-by-writer"), home: tryRead(require("node:os").homedir() + "/left") });\n`);
    expect((await ask(riff, "writer-in")).json).toBe("ok");
    expect((await ask(riff, "reader-in")).json).toEqual({ tmp: "ENOENT", home: "ENOENT" });
  });

  it("gives a function only riff's variables and its own, never the daemon's environment", async () => {
    await using riff = await startRiff();
    await deploy(riff, "env", "module.exports = () => process.env;\n", ["--env", "GREETING=hello"]);
    const json = (await ask(riff, "env-in")).json as Record<string, unknown>;
    const allowed = new Set(["PATH", "HOME", "LANG", "TMPDIR", "TZ", "GREETING"]);
    expect(Object.keys(json).filter((k) => !allowed.has(k) && !k.startsWith("RIFF_"))).toEqual([]);
    expect(json["GREETING"]).toBe("hello");
    // The test runner's own environment (its CA bundle, its home) stays outside.
    expect(json["HOME"]).toBe("/home/riff");
    expect(json["NODE_EXTRA_CA_CERTS"]).toBeUndefined();
  });

  it.each([["in the sandbox", []], ["with --sandbox none, through the replica's cgroup", ["--sandbox", "none"]]])(
    "kills every process a function starts with its replica, on riff delete, %s",
    async (_, flags) => {
      await using riff = await startRiff(flags);
      const marker = `riff-stray-${process.pid}-${Date.now()}`;
      await deploy(
        riff,
        "spawner",
        `const { spawn } = require("node:child_process");
module.exports = () => { const c = spawn("/bin/sh", ["-c", "sleep 600; : ${marker}"], { detached: true, stdio: "ignore" }); c.unref(); return "started"; };
`,
      );
      expect((await ask(riff, "spawner-in")).json).toBe("started");
      await until("the function's background process runs", () => running(marker));
      expect((await riff.cli(["delete", "--all", "spawner"])).code).toBe(0);
      await until("the background process is gone with the function", () => !running(marker));
    },
  );

  it("keeps a function with spec.network none off every network, and one with host on it", async () => {
    await using riff = await startRiff();
    expect((await riff.cli(["topics", "create", "net-probe"])).code).toBe(0);
    const source = `module.exports = async () => { try { const r = await fetch(process.env.RIFF_GATEWAY_URL + "/messages/net-probe", { method: "POST", body: "hi" }); return "reached: " + r.status; } catch (e) { return "unreachable: " + (e.cause?.code ?? e.message); } };\n`;
    await deploy(riff, "offline", source, ["--network", "none"]);
    await deploy(riff, "online", source);
    expect((await ask(riff, "offline-in")).json).toBe("unreachable: ECONNREFUSED");
    expect((await ask(riff, "online-in")).json).toBe("reached: 202");
  });
});

describe("the sandbox and the warm pool", () => {
  it("works with the warm pool, and without it", async () => {
    for (const pool of ["1", "0"]) {
      await using riff = await startRiff(["--pool-size", pool]);
      const d = await deployNode(riff, "square", "module.exports = (x) => x ** 2;\n", ["--input", "numbers", "--idle-timeout", "100ms"]);
      expect(d.code).toBe(0);
      expect((await riff.cli(["publish", "--input", "numbers", "--data", "9", "--reply"])).stdout).toBe("81\n");
    }
  });

  it("gives a pooled process the function's files without letting it change the stored revision", async () => {
    await using riff = await startRiff(["--pool-size", "1"]);
    const source = `${TRY}module.exports = () => ({
  cwd: process.cwd(),
  write: tryWrite(__filename),
  chmod: (() => { try { fs.chmodSync(__filename, 0o777); return "changed"; } catch (e) { return e.code; } })(),
  remove: (() => { try { fs.unlinkSync(__filename); return "removed"; } catch (e) { return e.code; } })(),
});
`;
    // The pooled process is up before the function is first called, so that call takes it.
    const pooled = await pooledProcessWaiting(riff, "node");
    await deploy(riff, "pooled", source);
    const { status, json } = await ask(riff, "pooled-in");
    expect(status).toBe(200);
    const seen = json as Record<string, string>;
    expect(seen.cwd).toContain(pooled);
    expect([seen.write, seen.chmod, seen.remove]).toEqual(["EROFS", "EROFS", "EROFS"]);
    const stored = join(riff.home, "functions", "pooled", "rev-1", "pooled.js");
    expect(readFileSync(stored, "utf8")).toBe(source);
    expect(statSync(stored).mode & 0o777).not.toBe(0o777);
  });
});

describe("without a working sandbox", () => {
  it("refuses to start, says how to install bubblewrap, and runs unsandboxed only with --sandbox none, saying so", async () => {
    const home = mkdtempSync(join(tmpdir(), "riff-nobwrap-"));
    // A PATH with no bwrap on it: the daemon cannot find bubblewrap.
    const env = { ...process.env, RIFF_HOME: home, PATH: "/nonexistent" };
    const riffCli = (args: string[]) =>
      promisify(execFile)(process.execPath, [RIFF_BIN, ...args], { env, cwd: home }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    try {
      const refused = await riffCli(["system", "start", "--port", "0"]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("functions cannot be sandboxed: bubblewrap (bwrap) is not installed");
      expect(refused.stderr).toContain("apt-get install bubblewrap");
      expect(refused.stderr).toContain("--sandbox none");
      expect(refused.stderr).not.toMatch(/\n\s+at /);

      const started = await riffCli(["system", "start", "--port", "0", "--sandbox", "none"]);
      expect(started.code, started.stderr).toBe(0);
      expect(started.stderr).toContain("unsandboxed");
      const list = await riffCli(["list"]);
      expect(list.stderr).toContain("functions run unsandboxed");
      expect((await riffCli(["system", "status"])).stdout).toContain("sandbox: none");
    } finally {
      await riffCli(["system", "stop"]);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
