import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, startRiff, type RiffFixture } from "./helpers/riff.js";

// The traps issue 14 lists, each with the fixed behaviour; and riff's README walkthrough with
// riff's own flags.
describe("riff's commands, without traps", () => {
  let riff: RiffFixture;
  let square: string;

  beforeAll(async () => {
    riff = await startRiff();
    square = join(riff.work, "square");
    mkdirSync(square);
    writeFileSync(join(square, "square.js"), "module.exports = (x) => x ** 2\n");
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
  });

  it("riff's README walkthrough, with riff's flags: create --artifact, publish -i -d -r, list, logs --name, delete --name --all", async () => {
    const dir = join(riff.work, "readme");
    mkdirSync(dir);
    writeFileSync(join(dir, "square.js"), "module.exports = (x) => x ** 2\n");
    const c = await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "--artifact", "square.js"], dir);
    expect(c.stderr).not.toContain("Error");
    expect(c.stdout).toContain("function/square created");
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("100\n");
    expect((await riff.cli(["publish", "-i", "numbers", "-d", "10", "-r"])).stdout).toBe("100\n");
    expect((await riff.cli(["list"])).stdout).toMatch(/^square\s+node\s+numbers/m);
    expect((await riff.cli(["logs", "--name", "square"])).stdout).toContain("replica started");
    // More of riff 0.0.x's flags: taken, and what has no meaning here says so.
    const twice = await riff.cli(["publish", "-i", "numbers", "-d", "3", "-c", "2", "--pause", "0.1"]);
    expect(twice.code, twice.stderr).toBe(0);
    expect(twice.stdout.match(/published to topic numbers/g)).toHaveLength(2);
    const pauseAsP = await riff.cli(["publish", "-i", "numbers", "-d", "3", "-c", "2", "-p", "1"]);
    expect(pauseAsP.stderr).toContain("riff 0.0.x's -p (seconds between messages) is --pause 1 here");
    const main = await riff.cli(["logs", "-n", "square", "-c", "main"]);
    expect(main.code, main.stderr).toBe(0);
    expect(main.stderr).toContain("-c main: ignored");
    // In the function's folder, logs needs no name (as publish needs no -i).
    expect((await riff.cli(["logs"], dir)).stdout).toContain("replica started");
    const image = await riff.cli(["create", "node", "--name", "square", "--input", "numbers", "-u", "me", "--invoker-version", "0.0.8", "--push", "--dry-run"], dir);
    expect(image.code, image.stderr).toBe(0);
    expect(image.stderr).toContain("warning: -u me, --invoker-version 0.0.8, --push: ignored; riff builds no image");
    const dry = await riff.cli(["delete", "--dry-run", "-n", "square", "--all"]);
    expect(dry.stdout).toContain("would delete function/square, and topic numbers, square-dead-letters unless another function uses it (dry run: nothing was deleted)");
    expect((await riff.cli(["list"])).stdout).toMatch(/^square\s/m);
    const d = await riff.cli(["delete", "--name", "square", "--all"]);
    expect(d.stdout).toContain("function/square deleted");
    expect(d.stdout).toContain("topic/numbers deleted");
  });

  it("-v is no longer --version: riff publish ... -v is an unknown flag, publishes nothing; -V and riff version print it", async () => {
    const v = await riff.cli(["publish", "-i", "numbers", "-d", "3", "-v"]);
    expect(v.code).toBe(1);
    expect(v.stdout).toBe("");
    expect(v.stderr).toContain("unknown option '-v'");
    expect((await riff.cli(["-V"])).stdout).toBe("0.1.0\n");
    const version = await riff.cli(["version"]);
    expect(version.stdout).toMatch(/^riff CLI 0\.1\.0\nriff daemon 0\.1\.0 \(pid \d+, http:\/\/127\.0\.0\.1:\d+\)\n$/);
  });

  it("create in a folder square/ names the function square and reads topic square; the hint suits the function", async () => {
    const r = await riff.cli(["create", "node"], square);
    expect(r.stderr).not.toContain("Error");
    expect(r.stdout).toContain("function/square created");
    expect(r.stdout).toContain("topic/square created");
    expect(r.stderr).toContain("try it: riff publish --input square --data 10 --reply");
    // -i defaults to the input of the function whose YAML is in this folder.
    expect((await riff.cli(["publish", "-d", "4", "-r"], square)).stdout).toBe("16\n");
    const echo = join(riff.work, "echo");
    mkdirSync(echo);
    writeFileSync(join(echo, "echo.sh"), "#!/bin/sh\ncat\n", { mode: 0o755 });
    const e = await riff.cli(["create", "command"], echo);
    expect(e.stderr).toContain("try it: riff publish --input echo --data hello --reply");
    expect((await riff.cli(["publish", "--input", "echo", "--data", "hello", "--reply"])).stdout).toBe("hello\n");
  });

  it("create over an existing function is an error pointing to riff update, whose hint works as printed; --force replaces it", async () => {
    const again = await riff.cli(["create", "node"], square);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Error: function 'square' already exists; riff create would replace it");
    expect(again.stderr).toContain("(RIFF_FUNCTION_EXISTS)");
    const hint = /`(riff update square)`/.exec(again.stderr)?.[1];
    expect(hint).toBe("riff update square");
    const u = await riff.cli(["update", "square"], square);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain("function/square unchanged");
    writeFileSync(join(square, "square.js"), "module.exports = (x) => x * 2\n");
    const forced = await riff.cli(["create", "node", "--force"], square);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("function/square updated (revision 2)");
    expect((await riff.cli(["publish", "-i", "square", "-d", "4", "-r"])).stdout).toBe("8\n");
  });

  it("unknown flags and commands name the nearest match and the error code", async () => {
    const flag = await riff.cli(["publish", "--inptu", "numbers", "-d", "1"]);
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain("(Did you mean --input?)");
    expect(flag.stderr).toContain("(RIFF_INVALID_ARGUMENT)");
    const command = await riff.cli(["lsit"]);
    expect(command.stderr).toContain("(Did you mean list?)");
    expect(command.stderr).toContain("(RIFF_INVALID_ARGUMENT)");
  });

  it("--port 99999 names the flag, with its code and no 'bug'", async () => {
    const r = await cli(join(riff.work, "other-home"), ["system", "start", "--port", "99999"], riff.work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--port 99999: must be a whole number from 0 to 65535");
    expect(r.stderr).toContain("(RIFF_INVALID_ARGUMENT)");
    expect(r.stderr).not.toContain("bug");
  });

  it("riff logs NAME takes -t/--tail and -f; riff describe fn suggests riff describe function NAME, which works, as does riff describe NAME", async () => {
    const logs = await riff.cli(["logs", "square", "-t", "50"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("replica started");
    const d = await riff.cli(["describe", "fn", "square"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("did you mean 'function'?");
    expect(d.stderr).toContain("  riff describe function square\n");
    expect((await riff.cli(["describe", "function", "square"])).stdout).toMatch(/^function square \(revision 2\)/);
    // The name alone: the hint names it with each kind.
    const bare = await riff.cli(["describe", "square"]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("'square' is not a kind (function or topic)");
    expect(bare.stderr).toContain("riff describe function square (or riff describe topic square)");
  });

  it("-o yaml and -o wide where there is output", async () => {
    const yaml = await riff.cli(["list", "-o", "yaml"]);
    expect(yaml.stdout).toMatch(/^- name: (square|echo)\n/m);
    const wide = await riff.cli(["list", "-o", "wide"]);
    expect(wide.stdout).toMatch(/REPLICAS\s+CONCURRENCY\s+IDLE\s+HANDLER\s+ARTIFACT/);
    expect((await riff.cli(["topics", "list", "-o", "yaml"])).stdout).toContain("- name: square\n");
  });

  it("riff init writes the YAML and deploys nothing; riff apply (this folder by default) deploys it; riff update -f applies a file", async () => {
    const dir = join(riff.work, "hello");
    mkdirSync(dir);
    writeFileSync(join(dir, "hello.py"), "def hello(x):\n    return 'hello ' + x\n");
    const i = await riff.cli(["init", "python3"], dir);
    expect(i.stderr).not.toContain("Error");
    expect(i.stdout).toContain("wrote hello-function.yaml");
    expect(i.stderr).toContain("deploy it with: riff apply");
    expect(existsSync(join(dir, "hello-topics.yaml"))).toBe(true);
    expect((await riff.cli(["list", "-o", "json"])).stdout).not.toContain('"hello"');
    const a = await riff.cli(["apply"], dir);
    expect(a.stdout).toContain("function/hello created");
    expect((await riff.cli(["publish", "-i", "hello", "-d", "riff", "-r"])).stdout).toBe("hello riff\n");
    writeFileSync(join(dir, "hello.py"), "def hello(x):\n    return 'hi ' + x\n");
    const u = await riff.cli(["update", "-f", "hello-function.yaml"], dir);
    expect(u.stdout).toContain("function/hello updated (revision 2)");
  });

  it("riff publish -p is the content type (--content-type kept); a number for -p says what is wrong", async () => {
    const json = await riff.cli(["publish", "-i", "square", "-d", "3", "-p", "application/json", "-r"]);
    expect(json.stdout).toBe("6\n");
    const bad = await riff.cli(["publish", "-i", "square", "-d", "3", "-p", "2"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--content-type 2: not a media type (type/subtype)");
  });

  it("riff delete NAME deletes the function and keeps its topics (they go only with --all)", async () => {
    const r = await riff.cli(["delete", "echo"]);
    expect(r.stdout).toContain("function/echo deleted");
    expect((await riff.cli(["topics", "list"])).stdout).toMatch(/^echo\s/m);
  });

  it("apply -f DIR checks every file first, reports every problem, and changes nothing; an empty file is an error", async () => {
    const dir = join(riff.work, "bad");
    mkdirSync(dir);
    writeFileSync(join(dir, "a-topic.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: fresh\n");
    writeFileSync(join(dir, "b-typo.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Functoin\nmetadata:\n  name: x\n");
    writeFileSync(join(dir, "c-field.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: y\nspec:\n  partitons: 2\n  retenshun: 1h\n");
    writeFileSync(join(dir, "d-empty.yaml"), "# nothing yet\n");
    const r = await riff.cli(["apply", "-f", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("b-typo.yaml:2: kind: unknown kind 'Functoin'; did you mean 'Function'?");
    expect(r.stderr).toContain("c-field.yaml:6: spec.partitons: unknown field; did you mean 'partitions'?");
    expect(r.stderr).toContain("d-empty.yaml: the file holds no resource");
    // Problems, not files: c-field.yaml has two.
    expect(r.stderr).toContain("c-field.yaml:7: spec.retenshun: unknown field");
    expect(r.stderr).toContain("fix these 4 problems and apply again; nothing was changed");
    expect((await riff.cli(["topics", "list"])).stdout).not.toContain("fresh");
  });

  it("the 405 hint is a curl line that works as printed, sending text/plain", async () => {
    const res = await fetch(`${riff.url}/requests/square`);
    expect(res.status).toBe(405);
    const { error } = (await res.json()) as { error: { hint: string } };
    expect(error.hint).toBe(`curl -H 'Content-Type: text/plain' --data-binary 10 ${riff.url}/requests/square`);
    const args = error.hint.split(" ").slice(1).map((a) => a.replace(/^'|'$/g, ""));
    const merged = [args[0] ?? "", `${args[1] ?? ""} ${args[2] ?? ""}`, ...args.slice(3)];
    const out = await new Promise<string>((done, fail) => execFile("curl", ["-s", ...merged], (err, stdout) => (err === null ? done(stdout) : fail(err))));
    expect(out).toBe("20");
  });

  it("completion scripts for bash, zsh and fish; names come from the daemon", async () => {
    expect((await riff.cli(["completion", "bash"])).stdout).toContain("complete -F _riff riff");
    expect((await riff.cli(["completion", "zsh"])).stdout).toContain("bashcompinit");
    expect((await riff.cli(["completion", "fish"])).stdout).toContain("complete -c riff");
    expect((await riff.cli(["__names"])).stdout.split("\n")).toEqual(expect.arrayContaining(["square", "hello"]));
  });

  it("riff revisions lists what a function keeps; riff rollback goes back safely, as a new revision", async () => {
    // square: revision 1 squared, revision 2 doubles (created with --force above).
    const list = await riff.cli(["revisions", "square"]);
    expect(list.stdout).toMatch(/^1\s+\S+\s+[0-9a-f]{12}\s+-\s*$/m);
    expect(list.stdout).toMatch(/^2\s+\S+\s+[0-9a-f]{12}\s+-\s+\(running\)$/m);
    // The file on disk is newer still: a rollback takes the code kept with the revision, not it.
    writeFileSync(join(square, "square.js"), "module.exports = (x) => x + 1000\n");
    const back = await riff.cli(["rollback", "square"]);
    expect(back.stderr).not.toContain("Error");
    expect(back.stdout).toBe("function/square rolled back: updated (revision 3)\n");
    expect((await riff.cli(["publish", "-i", "square", "-d", "4", "-r"])).stdout).toBe("16\n");
    const to2 = await riff.cli(["rollback", "square", "--to", "2"]);
    expect(to2.stdout).toContain("(revision 4)");
    expect((await riff.cli(["publish", "-i", "square", "-d", "4", "-r"])).stdout).toBe("8\n");
    const missing = await riff.cli(["rollback", "square", "--to", "9"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("function 'square' keeps no revision 9 (it keeps 1, 2, 3)");
    expect(missing.stderr).toContain("see its revisions with `riff revisions square`");
    expect(missing.stderr).toContain("(RIFF_REVISION_NOT_FOUND)");
    const json = JSON.parse((await riff.cli(["describe", "function", "square", "-o", "json"])).stdout) as Record<string, unknown>;
    expect(json["history"]).toBeUndefined();
    // Idle between calls, the replica still shows the partition it holds.
    const held = (json["replicas"] as { partitions: string[] }[]).flatMap((r) => r.partitions);
    expect(held.filter((p) => p === "square/0")).toEqual(["square/0"]);
  });

  it("the port is kept across system stop and start", async () => {
    const port = new URL(riff.url).port;
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    const again = await riff.cli(["system", "start"]);
    expect(again.stderr).not.toContain("Error");
    expect(again.stdout.trim()).toBe(`http://127.0.0.1:${port}`);
  });
});
