import { createServer } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { cli, startRiff, type RiffFixture } from "./helpers/riff.js";

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
    rmSync(home, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(r.stderr).toContain("--port");
  });

  it("has --help with an example on every command", async () => {
    const commands = [
      [], ["system", "start"], ["system", "stop"], ["system", "status"], ["create"], ["apply"], ["update"], ["delete"],
      ["publish"], ["list"], ["logs"], ["topics", "create"], ["topics", "list"], ["topics", "describe"], ["topics", "delete"],
      ["topics", "tail"], ["graph"], ["describe", "function"], ["describe", "topic"],
      ["invokers", "apply"], ["invokers", "list"], ["invokers", "delete"],
    ];
    for (const c of commands) {
      const r = await cli(work, [...c, "--help"]);
      expect(r.code, c.join(" ")).toBe(0);
      expect(r.stdout, c.join(" ")).toContain("Example:");
    }
  });
});
