import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff } from "./helpers/riff.js";

/** Every file under `dir` whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesContaining(path, needle));
    else if (entry.isFile() && readFileSync(path).includes(needle)) out.push(path);
  }
  return out;
}

describe("secrets", () => {
  it("reach only the functions that name them, stored 0600, and never shown, logged or written in YAML", async () => {
    await using riff = await startRiff();
    const value = `hunter2-${process.pid}`;
    const set = await riff.cli(["secrets", "set", "db-creds", `PGPASSWORD=${value}`, "PGUSER=app"]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain("secret/db-creds created (keys PGPASSWORD, PGUSER)");
    const file = join(riff.home, "secrets", "db-creds.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(riff.home, "secrets")).mode & 0o777).toBe(0o700);

    const reader = await deployNode(riff, "reader", "module.exports = () => `${process.env.PGUSER}:${process.env.PGPASSWORD}`;\n", ["--input", "reader-in", "--secret", "db-creds"]);
    expect(reader.code, reader.stderr).toBe(0);
    const other = await deployNode(riff, "other", "module.exports = () => String(process.env.PGPASSWORD);\n", ["--input", "other-in"]);
    expect(other.code).toBe(0);
    expect((await riff.cli(["publish", "--input", "reader-in", "--data", "x", "--reply"])).stdout).toBe(`app:${value}\n`);
    expect((await riff.cli(["publish", "--input", "other-in", "--data", "x", "--reply"])).stdout).toBe("undefined\n");

    const shown = [
      await riff.cli(["secrets", "list"]),
      await riff.cli(["secrets", "list", "-o", "json"]),
      await riff.cli(["describe", "function", "reader"]),
      await riff.cli(["describe", "function", "reader", "-o", "json"]),
      await riff.cli(["list", "-o", "json"]),
      await riff.cli(["logs", "-n", "reader"]),
    ];
    expect(shown[0]?.stdout).toMatch(/db-creds\s+PGPASSWORD,PGUSER/);
    expect(shown[2]?.stdout).toContain("secrets db-creds (their values are not shown)");
    for (const r of shown) expect(`${r.stdout}${r.stderr}`).not.toContain(value);
    // Nowhere in the riff home but its own file (the daemon's log, the function's YAML and
    // record, its revision folder), nor in the YAML riff create wrote next to the code.
    expect(filesContaining(riff.home, value)).toEqual([file]);
    expect(filesContaining(reader.dir, value)).toEqual([]);

    expect((await riff.cli(["secrets", "delete", "db-creds"])).code).toBe(0);
    expect((await riff.cli(["secrets", "list", "-o", "json"])).stdout.trim()).toBe("[]");
  });

  it("a function naming a secret that does not exist fails to start, saying which and how to fix it", async () => {
    await using riff = await startRiff();
    const d = await deployNode(riff, "needs", "module.exports = () => process.env.TOKEN;\n", ["--input", "needs-in", "--secret", "api-token"]);
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("function 'needs' names secret 'api-token' (spec.secrets), which does not exist");
    expect(d.stderr).toContain("riff secrets set api-token KEY=VALUE");
    expect(d.stderr).not.toMatch(/\n\s+at /);
    expect((await riff.cli(["secrets", "set", "api-token", "TOKEN=t0k"])).code).toBe(0);
    expect((await riff.cli(["apply", "-f", d.dir])).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "needs-in", "--data", "x", "--reply"])).stdout).toBe("t0k\n");
  });

  it("refuses a secret without KEY=VALUE, or with a key that is no variable name, naming the field", async () => {
    await using riff = await startRiff();
    const none = await riff.cli(["secrets", "set", "empty"]);
    expect(none.code).not.toBe(0);
    const bad = await riff.cli(["secrets", "set", "bad", "1X=y"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("data.1X: a key must be an environment variable name");
    expect(bad.stderr).not.toContain("=y");
  });
});
