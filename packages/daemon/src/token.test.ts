import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readTokenFile } from "./token.js";

// --token-file: a Secret mounted in a pod with fsGroup is 0440, owned by root and riff's group.
// riff's own group may read the token; any other group, or everyone, may not.
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tokenFile(mode: number, gid?: number): string {
  const dir = mkdtempSync(join(tmpdir(), "riff-token-"));
  dirs.push(dir);
  const file = join(dir, "token");
  writeFileSync(file, "a-token-long-enough-to-use\n");
  // Changing a file's group to one the process is not in needs root (.ci/run runs as root).
  if (gid !== undefined) chownSync(file, process.getuid?.() ?? 0, gid);
  chmodSync(file, mode);
  return file;
}

describe("readTokenFile", () => {
  it("takes a file its owner alone may read", () => {
    expect(readTokenFile(tokenFile(0o400))).toBe("a-token-long-enough-to-use");
  });

  it("takes a file riff's own group may read too, as Kubernetes mounts a Secret with fsGroup", () => {
    expect(readTokenFile(tokenFile(0o440, process.getgid?.()))).toBe("a-token-long-enough-to-use");
  });

  it("refuses a file another group, or everyone, may read", () => {
    const other = (process.getgid?.() ?? 0) + 4242;
    expect(() => readTokenFile(tokenFile(0o440, other))).toThrow(/RIFF_TOKEN_UNSAFE|others than its owner may read it/);
    expect(() => readTokenFile(tokenFile(0o444))).toThrow(/others than its owner may read it/);
    expect(() => readTokenFile(tokenFile(0o460, process.getgid?.()))).toThrow(/others than its owner may read it/);
  });
});
