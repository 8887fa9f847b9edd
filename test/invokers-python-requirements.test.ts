import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, type RiffFixture } from "./helpers/riff.js";
import { deploy, publishHello } from "./invokers-shared.js";

/**
 * Writes a pure-Python wheel of a package `shouty` (shout(s) -> s.upper()) into `dir` with the
 * standard library's zipfile: no index, no `wheel` module and no build backend are needed,
 * since none is reachable or installed on these machines.
 */
function buildWheel(dir: string): void {
  const script = [
    "import base64, hashlib, sys, zipfile",
    "files = {",
    "  'shouty/__init__.py': 'def shout(s):\\n    return s.upper()\\n',",
    "  'shouty-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: shouty\\nVersion: 1.0\\n',",
    "  'shouty-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: riff-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',",
    "}",
    "record = []",
    "with zipfile.ZipFile(sys.argv[1] + '/shouty-1.0-py3-none-any.whl', 'w') as z:",
    "  for name, text in files.items():",
    "    z.writestr(name, text)",
    "    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()",
    "    record.append(f'{name},sha256={digest},{len(text.encode())}')",
    "  record.append('shouty-1.0.dist-info/RECORD,,')",
    "  z.writestr('shouty-1.0.dist-info/RECORD', '\\n'.join(record) + '\\n')",
  ].join("\n");
  execFileSync("python3", ["-c", script, dir]);
}

const UPPER = "from shouty import shout\n\ndef upper(x):\n    return shout(x)\n";

// requirements.txt through a real daemon: pip installs into a cached venv at create, the
// sandboxed replica imports from it. pip's index is the only thing the test replaces, through
// pip's own environment variables on the daemon (a user with an index sets nothing).
describe("the python3 invoker with a requirements.txt", () => {
  let riff: RiffFixture;
  let wheels: string;
  // The venv cache outlives a run (it is keyed by the file's content): a line of its own makes
  // this run's requirements.txt new, so the first create really installs.
  const requirements = `# test run ${randomUUID()}\nshouty==1.0\n`;

  beforeAll(async () => {
    wheels = mkdtempSync(join(tmpdir(), "riff-wheels-"));
    buildWheel(wheels);
    riff = await startRiff([], { PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels });
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(wheels, { recursive: true, force: true });
  });

  it("installs the requirements at create, with pip's progress, and passes the HELLO check", async () => {
    const r = await deploy(riff, "python3", "upper", { "upper.py": UPPER, "requirements.txt": requirements });
    expect(r.stdout).toContain("created");
    expect(r.stderr).toContain("upper: requirements.txt: installing into a new virtualenv");
    expect(r.stderr).toContain("upper: pip: Successfully installed shouty-1.0");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO\n");

    // A new revision with the same requirements.txt reuses the venv: no pip run.
    writeFileSync(join(r.dir, "upper.py"), UPPER.replace("shout(x)", "shout(x) + '!'"));
    const u = await riff.cli(["update", "-n", "upper"], r.dir);
    expect(u.stderr).toContain("upper: requirements.txt: reusing its virtualenv");
    expect(u.stderr).not.toContain("pip:");
    expect((await publishHello(riff, r.input)).stdout).toBe("HELLO!\n");
  });

  it("a project folder with several modules and none named after the function fails create, saying how to pick one", async () => {
    const r = await deploy(riff, "python3", "amb", { "a.py": "def a(x):\n    return x\n", "b.py": "def b(x):\n    return x\n", "requirements.txt": requirements });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("it has a.py, b.py");
    expect(r.stderr).toContain("name the file amb.py, or pass --handler module.function");
    expect(r.stderr).toContain("RIFF_INVALID_ARGUMENT");
  });

  it("a requirement pip cannot install fails riff create with pip's own message", async () => {
    const r = await deploy(riff, "python3", "missing", { "missing.py": "def missing(x):\n    return x\n", "requirements.txt": "nothere==2\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Error: pip failed:\n[\s\S]*ERROR: No matching distribution found for nothere==2\n/);
  });
});
