import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RiffFixture } from "./riff.js";

/** Writes `source` as `<name>.js` in a fresh folder and deploys it with `riff create node`. */
export async function deployNode(
  riff: RiffFixture,
  name: string,
  source: string,
  flags: string[] = [],
): Promise<{ dir: string; code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(riff.work, `${name}-`));
  writeFileSync(join(dir, `${name}.js`), source);
  const r = await riff.cli(["create", "node", "--name", name, "--filepath", dir, ...flags], dir);
  return { dir, ...r };
}
