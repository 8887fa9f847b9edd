import { execFile, execFileSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RIFF_BIN, startRiff, type CliResult, type RiffFixture } from "./helpers/riff.js";

const SAMPLES = resolve(import.meta.dirname, "fixtures/riff-samples");

// riff's own samples, as riff's docs showed them: the YAML and the Dockerfile `riff init` wrote,
// applied unchanged with `riff apply -f DIR`, each answering through the gateway.
describe("riff's own samples", () => {
  let riff: RiffFixture;
  let samples: string;

  beforeAll(async () => {
    riff = await startRiff();
    samples = join(riff.work, "samples");
    cpSync(SAMPLES, samples, { recursive: true });
    chmodSync(join(samples, "echo/echo.sh"), 0o755);
    // riff's uppercase sample was a Maven project: its jar is in target/, as `mvn package` leaves it.
    const up = join(samples, "uppercase");
    execFileSync("javac", ["-d", join(up, "classes"), join(up, "functions/Upper.java")]);
    mkdirSync(join(up, "target"));
    execFileSync("jar", ["cf", join(up, "target/upper-1.0.0.jar"), "-C", join(up, "classes"), "."]);
  }, 120_000);
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
  });

  it("riff's Invoker YAML applies onto the built-in invoker, warning of each field with no meaning here", async () => {
    const r = await riff.cli(["invokers", "apply", "-f", join(samples, "invokers/node-invoker.yaml")]);
    expect(r.stderr).not.toContain("Error");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("invoker/node built-in: riff's built-in 'node' invoker runs its functions");
    for (const field of ["spec.version", "spec.functionTemplate", "spec.files", "spec.doc"]) expect(r.stderr).toMatch(new RegExp(`warning: .*node-invoker\\.yaml:\\d+: ${field.replace(".", "\\.")}: ignored; `));
    // Each warning names the line of its field, not the document's first.
    const yaml = readFileSync(join(samples, "invokers/node-invoker.yaml"), "utf8").split("\n");
    expect(r.stderr).toContain(`node-invoker.yaml:${yaml.findIndex((l) => l.startsWith("  version:")) + 1}: spec.version`);
    const java = await riff.cli(["invokers", "apply", "-f", join(samples, "invokers/java-invoker.yaml")]);
    expect(java.code).toBe(0);
    expect(java.stderr).toContain("spec.handler.default: ignored");
  });

  const cases: [string, string, string, string][] = [
    ["square", "numbers", "10", "100"],
    ["upper", "letters", "hello, world", "HELLO, WORLD"],
    ["uppercase", "words", "hello", "HELLO"],
    ["echo", "names", "world", "world"],
  ];
  for (const [sample, topic, data, reply] of cases) {
    it(`${sample}: riff apply -f ${sample}/ deploys it unchanged, warns of what riff does instead, and it replies ${reply}`, async () => {
      const dir = join(samples, sample);
      const before = readFileSync(join(dir, `${sample}-function.yaml`), "utf8");
      const r = await riff.cli(["apply", "-f", dir]);
      expect(r.stderr).not.toContain("Error");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`function/${sample} created`);
      expect(r.stdout).toContain(`topic/${topic} created`);
      expect(r.stderr).toMatch(/warning: .*-function\.yaml:\d+: spec\.protocol \(grpc\): ignored; riff talks to every invoker over its own frame protocol/);
      expect(r.stderr).toMatch(/warning: .*spec\.container\.image \(projectriff\/[a-z]+:0\.0\.1\): ignored; riff runs the code in the function's folder/);
      expect(readFileSync(join(dir, `${sample}-function.yaml`), "utf8")).toBe(before);
      const p = await riff.cli(["publish", "-i", topic, "-d", data, "-r"]);
      expect(p.stderr).not.toContain("Error");
      expect(p.stdout).toBe(`${reply}\n`);
    }, 120_000);
  }

  it("maps every field with a meaning: input, output, container.env, partitions; windowing other than size 1 is a warning", async () => {
    const fn = JSON.parse((await riff.cli(["describe", "function", "uppercase", "-o", "json"])).stdout) as { inputs: string[]; output?: string; handler?: string };
    expect([fn.inputs, fn.output, fn.handler]).toEqual([["words"], "uppercase-out", "functions.Upper"]);
    const echo = JSON.parse((await riff.cli(["describe", "function", "echo", "-o", "json"])).stdout) as { invoker: string; artifact: string; env: Record<string, string> };
    expect(echo.invoker).toBe("command");
    expect(echo.env).toEqual({ GREETING: "hello" });
    expect(echo.artifact.endsWith("echo/echo.sh")).toBe(true);
    const again = await riff.cli(["apply", "-f", join(samples, "uppercase")]);
    expect(again.stderr).toContain("spec.windowing: ignored; riff calls a function once per message");
    expect(again.stderr).not.toContain("spec.container.env");
    const topic = JSON.parse((await riff.cli(["topics", "describe", "uppercase-out", "-o", "json"])).stdout) as { partitions: number };
    expect(topic.partitions).toBe(1);
    // The admin API's apply returns the warnings with the results, for any client, not only the CLI.
    const file = join(samples, "square/square-function.yaml");
    const res = await fetch(`${riff.url}/api/v1/apply`, {
      method: "POST",
      headers: { authorization: `Bearer ${riff.token}`, "content-type": "application/json" },
      body: JSON.stringify({ documents: [{ file, text: readFileSync(file, "utf8") }], dryRun: true }),
    });
    const { results } = (await res.json()) as { results: { kind: string; name: string; warnings?: string[] }[] };
    expect(results.find((r) => r.name === "square")?.warnings?.map((w) => w.replace(/^.*?:\d+: /, "").split(":")[0])).toEqual(["spec.protocol (grpc)", "spec.container.image (projectriff/square"]);
  });

  it("riff invokers apply -f https://... fetches riff's Invoker YAML, trusting the CA in NODE_EXTRA_CA_CERTS", async () => {
    const tls = join(riff.work, "tls");
    mkdirSync(tls);
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(tls, "key.pem"), "-out", join(tls, "cert.pem")], { stdio: "ignore" });
    const yaml = readFileSync(join(samples, "invokers/node-invoker.yaml"));
    const server = createServer({ key: readFileSync(join(tls, "key.pem")), cert: readFileSync(join(tls, "cert.pem")) }, (_req, res) => res.end(yaml));
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    try {
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/node-invoker.yaml`;
      const untrusted = await cliWithEnv(riff.home, ["invokers", "apply", "-f", url], {});
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toContain("NODE_EXTRA_CA_CERTS");
      const r = await cliWithEnv(riff.home, ["invokers", "apply", "-f", url], { NODE_EXTRA_CA_CERTS: join(tls, "cert.pem") });
      expect(r.stderr).not.toContain("Error");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("invoker/node built-in");
      expect(r.stderr).toContain(`${url}:`);
    } finally {
      server.close();
    }
  });

  it("a kind typo is named with the kind meant", async () => {
    const file = join(riff.work, "typo.yaml");
    writeFileSync(file, readFileSync(join(samples, "square/square-function.yaml"), "utf8").replace("kind: Function", "kind: Functoin"));
    const r = await riff.cli(["apply", "-f", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/typo\.yaml:2: kind: unknown kind 'Functoin'; did you mean 'Function'\?/);
  });
});

/** The CLI with extra environment variables (the helper passes only RIFF_HOME). */
function cliWithEnv(home: string, args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((done) => {
    execFile(process.execPath, [RIFF_BIN, ...args], { cwd: home, env: { ...process.env, RIFF_HOME: home, ...env } }, (err, stdout, stderr) => {
      done({ code: err === null ? 0 : typeof err.code === "number" ? err.code : 1, stdout, stderr });
    });
  });
}
