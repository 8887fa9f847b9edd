import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";

// docs/cli.md is generated from every command's --help: a command added, or a flag changed,
// without running the script would leave the reference behind the code.
it("docs/cli.md is what scripts/cli-doc.mjs writes from the CLI's --help, every command included", () => {
  const root = join(import.meta.dirname, "..");
  const dir = mkdtempSync(join(tmpdir(), "riff-cli-doc-"));
  try {
    const out = join(dir, "cli.md");
    execFileSync(process.execPath, [join(root, "scripts/cli-doc.mjs"), out], { encoding: "utf8", timeout: 120_000 });
    const written = readFileSync(out, "utf8");
    for (const command of ["invocations", "trace", "keys create", "secrets set", "revisions", "rollback", "init", "completion"]) expect(written).toContain(`## riff ${command}\n`);
    expect(readFileSync(join(root, "docs/cli.md"), "utf8"), "run: npm run build && node scripts/cli-doc.mjs").toBe(written);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
