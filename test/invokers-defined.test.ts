import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { startRiff } from "./helpers/riff.js";

const PERL = resolve(import.meta.dirname, "../examples/perl");

describe("invokers users define", () => {
  it("declares Perl from YAML alone, and riff create perl then works like a built-in", async () => {
    await using riff = await startRiff();
    const applied = await riff.cli(["invokers", "apply", "-f", join(PERL, "perl-invoker.yaml")]);
    expect(applied.stdout).toBe("invoker/perl created\n");
    const list = await riff.cli(["invokers", "list"]);
    expect(list.stdout).toMatch(/perl\s+user \(lines\)\s+\*\.pl/);
    expect(list.stdout).toMatch(/node\s+built-in/);

    const dir = mkdtempSync(join(riff.work, "perl-"));
    copyFileSync(join(PERL, "upper.pl"), join(dir, "upper.pl"));
    const created = await riff.cli(["create", "perl", "--name", "upper", "--input", "words", "--filepath", dir]);
    expect(created.code).toBe(0);
    const hello = await riff.cli(["publish", "--input", "words", "--data", "hello", "--reply"]);
    expect(hello.stdout).toBe("HELLO\n");

    // A handler other than the default.
    writeFileSync(join(dir, "rev.pl"), "sub backwards { return scalar reverse shift } 1;\n");
    const rev = await riff.cli(["create", "perl", "--name", "rev", "--input", "rev-in", "--filepath", dir, "--artifact", "rev.pl", "--handler", "backwards"]);
    expect(rev.code).toBe(0);
    expect((await riff.cli(["publish", "--input", "rev-in", "--data", "riff", "--reply"])).stdout).toBe("ffir\n");

    const inUse = await riff.cli(["invokers", "delete", "perl"]);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain("used by function 'upper', 'rev'");
    expect((await riff.cli(["delete", "upper"])).code).toBe(0);
    expect((await riff.cli(["delete", "rev"])).code).toBe(0);
    expect((await riff.cli(["invokers", "delete", "perl"])).stdout).toBe("invoker/perl deleted\n");
  });

  it("applies an invoker and its function from one folder, and keeps them across a restart", async () => {
    await using riff = await startRiff();
    const r = await riff.cli(["apply", "-f", PERL]);
    expect(r.stdout).toContain("invoker/perl created");
    expect(r.stdout).toContain("function/upper-perl created");
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    await riff.restart();
    expect((await riff.cli(["publish", "--input", "perl-words", "--data", "hello", "--reply"])).stdout).toBe("HELLO\n");
  });

  it("a replica that breaks the frame protocol fails create, and the daemon keeps running", async () => {
    await using riff = await startRiff();
    const dir = mkdtempSync(join(riff.work, "noisy-"));
    writeFileSync(join(dir, "noisy.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Invoker\nmetadata:\n  name: noisy\nspec:\n  protocol: frames\n  command: [sh, -c, 'echo this is not a frame; exec sleep 30']\n");
    expect((await riff.cli(["invokers", "apply", "-f", join(dir, "noisy.yaml")])).code).toBe(0);
    writeFileSync(join(dir, "fn.txt"), "");
    const r = await riff.cli(["create", "noisy", "--name", "noisy", "--input", "noisy-in", "--filepath", dir, "--artifact", "fn.txt"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("broke the frame protocol");
    expect((await riff.cli(["list"])).code).toBe(0);
  });

  it("refuses to redefine a built-in, and names a bad field", async () => {
    await using riff = await startRiff();
    const dir = mkdtempSync(join(riff.work, "inv-"));
    writeFileSync(join(dir, "node.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Invoker\nmetadata:\n  name: node\nspec:\n  protocol: lines\n  command: [cat]\n");
    const builtin = await riff.cli(["invokers", "apply", "-f", join(dir, "node.yaml")]);
    expect(builtin.code).toBe(1);
    expect(builtin.stderr).toContain("invoker 'node' is built into riff");
    writeFileSync(join(dir, "bad.yaml"), "apiVersion: projectriff.io/v1alpha1\nkind: Invoker\nmetadata:\n  name: odd\nspec:\n  protocol: pigeon\n  command: [cat]\n");
    const bad = await riff.cli(["invokers", "apply", "-f", join(dir, "bad.yaml")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("bad.yaml:6: spec.protocol:");
  });
});
