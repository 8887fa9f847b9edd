import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, waitForLog, type RiffFixture } from "./helpers/riff.js";
import { pooledProcessRunning, pooledProcessWaiting } from "./helpers/pool.js";
import { deploy, errorOf, expectContentRefusals, publishHello, request } from "./invokers-shared.js";

const fn = (cls: string, iface: string, body: string, imports = "") =>
  `package functions;\nimport java.util.function.*;\n${imports}\npublic class ${cls} implements ${iface} {\n${body}\n}\n`;

/** Builds functions/Shout.class into shout.jar with the JDK's own javac and jar. */
function buildJar(dir: string): string {
  const src = join(dir, "src");
  execFileSync("mkdir", ["-p", join(src, "functions")]);
  writeFileSync(join(src, "functions", "Shout.java"), fn("Shout", "Function<String, String>", '  public String apply(String s) { return s.toUpperCase() + "!"; }'));
  execFileSync("javac", ["-d", join(dir, "classes"), join(src, "functions", "Shout.java")]);
  execFileSync("jar", ["cf", join(dir, "shout.jar"), "-C", join(dir, "classes"), "."]);
  return join(dir, "shout.jar");
}

// The java invoker through a real daemon: javac at create time, a JVM per replica.
describe("the java invoker", () => {
  let riff: RiffFixture;
  let jarDir: string;

  beforeAll(async () => {
    riff = await startRiff();
    jarDir = mkdtempSync(join(tmpdir(), "riff-jar-"));
    const jar = buildJar(jarDir);
    const deploys = await Promise.all([
      deploy(riff, "java", "upper", { "Upper.java": fn("Upper", "Function<String, String>", '  public String apply(String s) { System.out.println("upper got " + s); return s.toUpperCase(); }') }),
      deploy(riff, "java", "shout", {}, ["--artifact", jar, "--handler", "functions.Shout"]),
      deploy(riff, "java", "counter", { "Counter.java": fn("Counter", "Supplier<String>", "  private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();\n  public String get() { return \"tick \" + n.incrementAndGet(); }") }),
      deploy(riff, "java", "sink", { "Sink.java": fn("Sink", "Consumer<String>", '  public void accept(String s) { System.err.println("sink got " + s); }') }),
      deploy(riff, "java", "boom", { "Boom.java": fn("Boom", "Function<String, String>", '  public String apply(String s) { throw new IllegalStateException("kaboom " + s); }') }),
      deploy(riff, "java", "reverse", { "Reverse.java": fn("Reverse", "Function<byte[], byte[]>", "  public byte[] apply(byte[] b) { byte[] r = new byte[b.length]; for (int i = 0; i < b.length; i++) r[i] = b[b.length - 1 - i]; return r; }") }),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(jarDir, { recursive: true, force: true });
  });

  it("passes riff's conformance check with a Function compiled from .java sources", async () => {
    expect((await publishHello(riff, "upper-in")).stdout).toBe("HELLO\n");
  });

  it("runs a Function from a jar named by --handler", async () => {
    expect(await request(riff, "shout-in", "hey")).toMatchObject({ status: 200, type: "text/plain", text: "HEY!" });
  });

  it("a Supplier answers every message, keeping its state in the running JVM", async () => {
    const first = await request(riff, "counter-in", "ignored");
    const second = await request(riff, "counter-in", "ignored");
    expect(Number(second.text.split(" ")[1])).toBe(Number(first.text.split(" ")[1]) + 1);
  });

  it("a Consumer takes the message and replies with an empty body", async () => {
    const log = waitForLog(riff.home, "sink", /sink got swallowed/);
    expect(await request(riff, "sink-in", "swallowed")).toMatchObject({ status: 200, text: "" });
    await log.found;
  });

  it("byte[] in and out: octet-stream stays bytes", async () => {
    const r = await request(riff, "reverse-in", new Uint8Array([1, 2, 3, 255]), { "content-type": "application/octet-stream" });
    expect(r.type).toBe("application/octet-stream");
    expect([...r.bytes]).toEqual([255, 3, 2, 1]);
  });

  it("an exception is a 500 with the message and the stack trace, not a dropped message", async () => {
    const r = await request(riff, "boom-in", "now");
    expect(r.status).toBe(500);
    const err = errorOf(r.text);
    expect(err).toMatchObject({ code: "RIFF_FUNCTION_ERROR", message: "kaboom now" });
    expect(err.details?.name).toBe("IllegalStateException");
    expect(err.details?.stack).toContain("at functions.Boom.apply(Boom.java:");
    expect(err.details?.stack).not.toContain("RiffShim");
    expect((await request(riff, "boom-in", "again")).status).toBe(500);
  });

  it("content negotiation: unsupported types are refused, Accept with q-values is honoured", async () => {
    await expectContentRefusals(riff, "upper-in");
    const json = await request(riff, "upper-in", '"a"', { "content-type": "application/json; charset=utf-8", accept: "text/plain;q=0.1, application/json" });
    expect(json).toMatchObject({ type: "application/json", text: '"A"' });
  });

  it("System.out of the function goes to riff logs, not into the frames", async () => {
    const log = waitForLog(riff.home, "upper", /upper got logline/);
    expect((await request(riff, "upper-in", "logline")).text).toBe("LOGLINE");
    await log.found;
  });

  it("a compile error fails riff create with javac's message", async () => {
    const r = await deploy(riff, "java", "broken", { "Broken.java": fn("Broken", "Function<String, String>", "  public String apply(String s) { return s.nope(); }") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Broken.java:5: error: cannot find symbol");
    // The path is the user's file, not riff's copy of it in the revision folder.
    expect(r.stderr).toContain(`${r.dir}/Broken.java:5`);
    expect(r.stderr).not.toContain("/rev-1/");
  });

  it("a missing class fails riff create, naming it", async () => {
    const r = await deploy(riff, "java", "lost", { "Lost.java": fn("Lost", "Function<String, String>", "  public String apply(String s) { return s; }") }, ["--handler", "functions.Elsewhere"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("class functions.Elsewhere is not in the function's jar or sources");
  });
});

describe("java functions from the warm pool", () => {
  it("keeps no JVM until a java function exists; then a pooled JVM takes the function: its sandboxed copy, its environment without riff's own variables, its classes, its exceptions", async () => {
    await using riff = await startRiff(["--pool-size", "1"]);
    // No JVM is kept before a java function exists (the pool is lazy).
    expect(pooledProcessRunning(riff, "java")).toBe(false);
    const probe = fn(
      "Probe",
      "Function<String, String>",
      '  public String apply(String s) {\n    if (s.equals("boom")) throw new IllegalStateException("probe " + s);\n    try {\n      return new java.io.File(".").getAbsoluteFile().getParent() + "|" + System.getenv("GREETING") + "|" + System.getenv("RIFF_JAVA_HANDLER") + "|" + Thread.currentThread().getContextClassLoader().loadClass("functions.Probe").getSimpleName();\n    } catch (ClassNotFoundException e) {\n      return "no class: " + e;\n    }\n  }',
    );
    const d = await deploy(riff, "java", "probe", { "Probe.java": probe }, ["--env", "GREETING=hi"]);
    expect(d.code, d.stderr).toBe(0);
    // The java pool starts with the first java function; a pooled JVM is waiting before the
    // first call, so that call takes it.
    const pooled = await pooledProcessWaiting(riff, "java");
    const r = await request(riff, "probe-in", "x");
    expect(r.status, r.text).toBe(200);
    const [dir, greeting, handler, cls] = r.text.split("|");
    expect(dir).toContain(pooled);
    expect([greeting, handler, cls]).toEqual(["hi", "null", "Probe"]);
    const boom = await request(riff, "probe-in", "boom");
    const err = errorOf(boom.text);
    expect([boom.status, err.message, err.details?.name]).toEqual([500, "probe boom", "IllegalStateException"]);
    expect(err.details?.stack).toContain("at functions.Probe.apply(Probe.java:");
    expect(err.details?.stack).not.toMatch(/RiffShim|RiffPool/);
  });
});
