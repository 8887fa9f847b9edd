import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { cli, RIFF_BIN, startRiff, type RiffFixture } from "./helpers/riff.js";

const STACK = /\n\s+at .+:\d+:\d+/;

describe("the CLI's errors", () => {
  let riff: RiffFixture;
  let work: string;

  beforeAll(async () => {
    riff = await startRiff();
    work = mkdtempSync(join(tmpdir(), "riff-cli-"));
    writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** 2\n");
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(work, { recursive: true, force: true });
  });

  it("refuses input == output, saying it is a loop", async () => {
    const r = await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "--output", "numbers"], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("loop");
    expect(r.stderr).not.toMatch(STACK);
  });

  it("names the flag with a bad name", async () => {
    const r = await riff.cli(["create", "node", "--name", "Square_1", "--input", "numbers"], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--name 'Square_1' is not a valid name");
  });

  it("reports the file, line and field of a bad resource", async () => {
    const file = join(work, "bad.yaml");
    writeFileSync(file, "apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: t\nspec:\n  partitions: many\n");
    const r = await riff.cli(["apply", "-f", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:6: spec.partitions:`);
    expect(r.stderr).not.toMatch(STACK);
  });

  it("fails create with the runtime's own message when the function cannot load", async () => {
    const d = await deployNode(riff, "broken", "module.exports = (x) => x **\n", ["--input", "broken-in"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("function 'broken' failed to start");
    expect(d.stderr).toContain("SyntaxError");
    const list = await riff.cli(["list"]);
    expect(list.stdout).toMatch(/broken\s+node\s+broken-in\s+-\s+failed/);
  });

  it("says which invokers exist", async () => {
    const r = await riff.cli(["create", "cobol", "--name", "x", "--input", "y"], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown invoker 'cobol'");
    expect(r.stderr).toContain("node");
    expect(r.stderr).not.toContain("did you mean");
    const typo = await riff.cli(["create", "python", "--name", "x", "--input", "y"], work);
    expect(typo.stderr).toContain("unknown invoker 'python'; did you mean 'python3'?");
  });

  it("publish to a missing topic exits non-zero with the gateway's message", async () => {
    const r = await riff.cli(["publish", "--input", "ghost", "--data", "1", "--reply"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("topic 'ghost' does not exist");
  });

  it("a port in use gets a clear error", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const home = mkdtempSync(join(tmpdir(), "riff-port-"));
    const r = await cli(home, ["system", "start", "--port", String(port)]);
    server.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).toContain("--port");
    // The failed start closed what it had opened: the next start finds its topics closed cleanly.
    expect((await cli(home, ["system", "start", "--port", "0"])).code).toBe(0);
    expect((await cli(home, ["system", "stop"])).code).toBe(0);
    expect(readFileSync(join(home, "daemon.log"), "utf8")).not.toContain("not closed cleanly");
    rmSync(home, { recursive: true, force: true });
  });

  it("topics create makes a topic, then changes only what it is asked to", async () => {
    const made = await riff.cli(["topics", "create", "tuned", "-p", "3"]);
    expect(made.stdout).toBe("topic/tuned created: 3 partition(s), retention 7d or 1073741824 bytes, durability process\n");
    // Without -p an existing topic keeps its partitions, instead of failing to lower them to 1.
    const again = await riff.cli(["topics", "create", "tuned"]);
    expect(again.stdout).toBe("topic/tuned unchanged: 3 partition(s), retention 7d or 1073741824 bytes, durability process\n");
    const tuned = await riff.cli(["topics", "create", "tuned", "--retention", "12h", "--retention-bytes", "1MiB", "--durability", "fsync"]);
    expect(tuned.stdout).toBe("topic/tuned updated: 3 partition(s), retention 12h or 1048576 bytes, durability fsync\n");
    const bad = await riff.cli(["topics", "create", "tuned", "--retention", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--retention");
    expect(bad.stderr).not.toMatch(STACK);
    const lower = await riff.cli(["topics", "create", "tuned", "-p", "2"]);
    expect(lower.code).toBe(1);
    expect(lower.stderr).toContain("cannot");
  });

  it("apply of a Topic changes the retention it names, and leaves the rest", async () => {
    const file = join(work, "kept-topic.yaml");
    const doc = (extra: string) => `apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: kept\nspec:\n  partitions: 2\n${extra}`;
    writeFileSync(file, doc(""));
    expect((await riff.cli(["apply", "-f", file])).stdout).toContain("topic/kept created");
    writeFileSync(file, doc("  retentionMs: 3600000\n"));
    expect((await riff.cli(["apply", "-f", file])).stdout).toContain("topic/kept updated");
    expect((await riff.cli(["apply", "-f", file])).stdout).toContain("topic/kept unchanged");
    const described = JSON.parse((await riff.cli(["topics", "describe", "kept", "-o", "json"])).stdout) as { retentionMs: number; partitions: number };
    expect([described.retentionMs, described.partitions]).toEqual([3_600_000, 2]);
  });

  it("delete takes the function's consumer group with it, and --all says which topics it kept", async () => {
    expect((await deployNode(riff, "d-first", "module.exports = (x) => x;\n", ["--input", "d-shared"])).code).toBe(0);
    expect((await deployNode(riff, "d-second", "module.exports = (x) => x;\n", ["--input", "d-shared"])).code).toBe(0);
    const groups = async () =>
      (JSON.parse((await riff.cli(["topics", "describe", "d-shared", "-o", "json"])).stdout) as { groups: { group: string }[] }).groups.map((g) => g.group).sort();
    expect(await groups()).toEqual(["d-first", "d-second"]);
    const r = await riff.cli(["delete", "--all", "d-first"]);
    // Its own dead-letter topic goes with it; the shared input stays.
    expect(r.stdout).toBe("function/d-first deleted\ntopic/d-first-dead-letters deleted\ntopic/d-shared kept: function d-second uses it\n");
    expect(await groups()).toEqual(["d-second"]);
  });

  it("update of a function that failed to start tries again though nothing changed", async () => {
    // Fails to load until a file outside its folder exists: nothing riff copies changes. The
    // sandbox would hide that file, so this riff runs functions unsandboxed.
    await using open = await startRiff(["--sandbox", "none"]);
    const needed = join(work, "needed.json");
    const source = `const fs = require("node:fs");\nconst conf = JSON.parse(fs.readFileSync(${JSON.stringify(needed)}, "utf8"));\nmodule.exports = (x) => conf.prefix + x;\n`;
    const d = await deployNode(open, "needy", source, ["--input", "needy-in"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("ENOENT");
    writeFileSync(needed, JSON.stringify({ prefix: "got:" }));
    const u = await open.cli(["update", "-n", "needy"]);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("function/needy restarted (revision 1)");
    expect((await open.cli(["publish", "--input", "needy-in", "--data", "x", "--reply"])).stdout).toBe("got:x\n");
  });

  it("checks durations before anything is written, and wants a unit on a flag", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-flags-"));
    writeFileSync(join(dir, "t.js"), "module.exports = (x) => x;\n");
    const zero = await riff.cli(["create", "node", "--name", "t", "--input", "t-in", "--timeout", "0ms"], dir);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toContain("spec.timeoutMs: must be at least 1ms");
    // Nothing was kept from the refused attempt: the corrected one goes through.
    expect(existsSync(join(dir, "t-function.yaml"))).toBe(false);
    const ok = await riff.cli(["create", "node", "--name", "t", "--input", "t-in", "--timeout", "5s"], dir);
    expect(ok.code).toBe(0);
    expect(ok.stderr).not.toContain("kept the existing");
    // A create that fails at the daemon keeps its YAML (to apply once the cause is fixed); one
    // with other flags is not silently given that YAML again.
    const other = mkdtempSync(join(tmpdir(), "riff-flags-"));
    writeFileSync(join(other, "u.js"), "module.exports = (x) => x;\n");
    const failed = await riff.cli(["create", "node", "--name", "u", "--input", "u-in", "--secret", "nope"], other);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("the YAML stays in");
    const again = await riff.cli(["create", "node", "--name", "u", "--input", "u-in"], other);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`u-function.yaml is already in ${other}, and differs from what these flags write`);
    expect(again.stderr).toContain("--force");
    const forced = await riff.cli(["create", "node", "--name", "u", "--input", "u-in", "--force"], other);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(other, "u-function.yaml"), "utf8")).not.toContain("nope");
    const bare = await riff.cli(["topics", "create", "t-in", "--retention", "10"]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("--retention 10: give a unit");
    const long = await riff.cli(["publish", "--input", "t-in", "--data", "x", "--reply", "--timeout", "30d"]);
    expect(long.code).toBe(1);
    expect(long.stderr).toContain("--timeout 30d: wait from 1ms to 24d");
    rmSync(dir, { recursive: true, force: true });
  });

  it("topics recover wants a name or --all, and says the embedded broker has nothing to recover", async () => {
    const neither = await riff.cli(["topics", "recover"]);
    expect(neither.code).toBe(1);
    expect(neither.stderr).toContain("which topic? name one, or pass --all");
    const all = await riff.cli(["topics", "recover", "--all"]);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain("the embedded broker keeps no record apart from its topics");
    expect(all.stderr).not.toMatch(STACK);
  });

  /**
   * `riff topics tail TOPIC -f` of the daemon at `home`, once it follows: a message published
   * now has reached it. Then `exited` gives its exit code, and `stderr()` what it printed there.
   */
  async function following(fixture: { home: string; cli: (args: string[]) => Promise<{ code: number | null }> }, topic: string) {
    const tail = spawn(process.execPath, [RIFF_BIN, "topics", "tail", topic, "-f"], { env: { ...process.env, RIFF_HOME: fixture.home }, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    tail.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => tail.once("exit", resolve));
    const reached = new Promise<void>((resolve) => tail.stdout.once("data", () => resolve()));
    expect((await fixture.cli(["publish", "--input", topic, "--data", "hello"])).code).toBe(0);
    await reached;
    return { exited, stderr: () => stderr };
  }

  it("says plainly that the daemon went away under a following tail: no stack, no 'bug'", async () => {
    await using own = await startRiff();
    expect((await own.cli(["topics", "create", "followed"])).code).toBe(0);
    const tail = await following(own, "followed");
    own.kill();
    expect(await tail.exited).toBe(1);
    expect(tail.stderr()).toContain(`Error: the connection to riff (home ${own.home}) broke before its answer ended`);
    expect(tail.stderr()).toContain("riff system status");
    expect(tail.stderr()).not.toContain("This is a bug");
    expect(tail.stderr()).not.toMatch(STACK);
  });

  it("ends a following tail when its topic is deleted, saying so with the error's code", async () => {
    expect((await riff.cli(["topics", "create", "short-lived"])).code).toBe(0);
    const tail = await following(riff, "short-lived");
    expect((await riff.cli(["topics", "delete", "short-lived"])).code).toBe(0);
    expect(await tail.exited).toBe(1);
    expect(tail.stderr()).toContain("Error: topic 'short-lived' was deleted while it was read");
    expect(tail.stderr()).toContain("(RIFF_TOPIC_NOT_FOUND)");
    expect(tail.stderr()).not.toMatch(STACK);
  });

  it("has --help with an example on every command", async () => {
    const commands = [
      [], ["system", "start"], ["system", "stop"], ["system", "status"], ["create"], ["apply"], ["update"], ["delete"],
      ["publish"], ["list"], ["logs"], ["topics", "create"], ["topics", "list"], ["topics", "describe"], ["topics", "delete"],
      ["topics", "tail"], ["graph"], ["describe", "function"], ["describe", "topic"],
      ["invokers", "apply"], ["invokers", "list"], ["invokers", "delete"], ["init"], ["version"], ["completion"],
      ["system"], ["topics"], ["describe"], ["invokers"], ["dead-letters"], ["secrets"], ["keys"],
    ];
    for (const c of commands) {
      const r = await cli(work, [...c, "--help"]);
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toContain("Example:");
    }
  });
});
