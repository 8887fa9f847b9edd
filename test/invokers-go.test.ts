import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, tailN, waitForLog, type RiffFixture } from "./helpers/riff.js";
import { pooledProcessWaiting } from "./helpers/pool.js";
import { deploy, errorOf, expectRefusedUncalled, publishHello, replicaPids, request } from "./invokers-shared.js";

/** A Go source file of package `pkg` with `imports` and `body`. */
const go = (pkg: string, imports: string[], body: string) =>
  `package ${pkg}\n\n${imports.length > 0 ? `import (\n${imports.map((i) => `\t"${i}"\n`).join("")})\n\n` : ""}${body}\n`;

/** Fails, naming the tool, when Go is missing: these tests never skip. */
function requireGo(): void {
  try {
    execFileSync("go", ["version"]);
  } catch (err) {
    throw new Error(`the go invoker's tests need the Go toolchain: 'go version' failed (${String(err)}); install golang`);
  }
}

/** rot13.so, built as riff's Go invoker wanted functions: a plugin of package main. */
function buildPlugin(dir: string): string {
  writeFileSync(join(dir, "rot13.go"), go("main", ["strings"], "func Encode(s string) string {\n\treturn strings.Map(func(r rune) rune {\n\t\tswitch {\n\t\tcase r >= 'a' && r <= 'z':\n\t\t\treturn 'a' + (r-'a'+13)%26\n\t\tcase r >= 'A' && r <= 'Z':\n\t\t\treturn 'A' + (r-'A'+13)%26\n\t\t}\n\t\treturn r\n\t}, s)\n}"));
  writeFileSync(join(dir, "go.mod"), "module rot13\n\ngo 1.19\n");
  execFileSync("go", ["build", "-buildmode=plugin", "-o", "rot13.so", "."], { cwd: dir, env: { ...process.env, GOPROXY: "off", GOFLAGS: "" } });
  return join(dir, "rot13.so");
}

// A module whose one dependency is vendored: it builds with no module proxy.
const vendored = {
  "go.mod": "module example.com/greet\n\ngo 1.19\n\nrequire example.com/shout v0.1.0\n",
  "greet.go": go("greet", ["example.com/shout"], "func Greet(name string) string { return shout.Loud(\"hello \" + name) }"),
  "vendor/modules.txt": "# example.com/shout v0.1.0\n## explicit\nexample.com/shout\n",
  "vendor/example.com/shout/shout.go": go("shout", ["strings"], 'func Loud(s string) string { return strings.ToUpper(s) + "!" }'),
};

// The go invoker through a real daemon: go build at create, one binary per revision, sandboxed.
describe("the go invoker", () => {
  let riff: RiffFixture;
  let pluginDir: string;

  beforeAll(async () => {
    requireGo();
    riff = await startRiff();
    pluginDir = mkdtempSync(join(tmpdir(), "riff-goplugin-"));
    const plugin = buildPlugin(pluginDir);
    const deploys = await Promise.all([
      deploy(riff, "go", "upper", { "upper.go": go("upper", ["fmt", "strings"], 'func Upper(s string) string {\n\tfmt.Println("upper got", s)\n\treturn strings.ToUpper(s)\n}') }),
      deploy(riff, "go", "square", { "square.go": go("square", [], "func Square(x int) int { return x * x }") }),
      deploy(riff, "go", "shape", { "shape.go": go("shape", ["fmt"], "var calls int\n\nfunc Shape(x any) map[string]any {\n\tcalls++\n\treturn map[string]any{\"type\": fmt.Sprintf(\"%T\", x), \"value\": fmt.Sprint(x), \"calls\": calls}\n}") }),
      deploy(riff, "go", "reverse", { "reverse.go": go("reverse", [], "func Reverse(b []byte) []byte {\n\tr := make([]byte, len(b))\n\tfor i := range b {\n\t\tr[i] = b[len(b)-1-i]\n\t}\n\treturn r\n}") }),
      deploy(riff, "go", "boom", { "boom.go": go("boom", ["errors"], 'func Boom(s string) (string, error) { return "", errors.New("kaboom " + s) }') }),
      deploy(riff, "go", "panics", { "panics.go": go("panics", [], 'func Panics(s string) string {\n\tpanic("oh no " + s)\n}') }),
      deploy(riff, "go", "rot13", {}, ["--artifact", plugin, "--handler", "Encode"]),
      deploy(riff, "go", "greet", vendored),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(pluginDir, { recursive: true, force: true });
  });

  it("passes riff's conformance check: publish hello --reply prints HELLO", async () => {
    const r = await publishHello(riff, "upper-in");
    expect([r.code, r.stdout]).toEqual([0, "HELLO\n"]);
  });

  it("decodes the parameter by its Go type: func Square(x int) int from text and JSON", async () => {
    expect(await request(riff, "square-in", "7")).toMatchObject({ status: 200, type: "text/plain", text: "49" });
    expect(await request(riff, "square-in", "12", { "content-type": "application/json" })).toMatchObject({ type: "application/json", text: "144" });
    const bad = await request(riff, "square-in", "seven");
    expect([bad.status, errorOf(bad.text).code]).toEqual([400, "RIFF_INVALID_ARGUMENT"]);
  });

  it("an any parameter gets a string, a JSON value, bytes or a form; a map result is JSON", async () => {
    const text = await request(riff, "shape-in", "hi", { "content-type": "text/plain; charset=utf-8" });
    expect(text.type).toBe("application/json");
    expect(JSON.parse(text.text)).toMatchObject({ type: "string", value: "hi" });
    expect(JSON.parse((await request(riff, "shape-in", '{"a":1}', { "content-type": "application/json" })).text)).toMatchObject({ type: "map[string]interface {}", value: "map[a:1]" });
    expect(JSON.parse((await request(riff, "shape-in", new Uint8Array([1, 2]), { "content-type": "application/octet-stream", accept: "application/json" })).text)).toMatchObject({ type: "[]uint8" });
    const form = await request(riff, "shape-in", "a=1&b=two", { "content-type": "application/x-www-form-urlencoded", accept: "application/json" });
    expect(JSON.parse(form.text)).toMatchObject({ type: "map[string]string", value: "map[a:1 b:two]" });
  });

  it("encodes for Accept with q-values; []byte stays bytes", async () => {
    const asText = await request(riff, "upper-in", '"v"', { "content-type": "application/json", accept: "application/json;q=0.5, text/plain;q=0.9" });
    expect(asText).toMatchObject({ status: 200, type: "text/plain", text: "V" });
    expect(await request(riff, "upper-in", "v", { accept: "application/*" })).toMatchObject({ type: "application/json", text: '"V"' });
    const raw = await request(riff, "reverse-in", new Uint8Array([1, 2, 3, 255]), { "content-type": "application/octet-stream" });
    expect(raw.type).toBe("application/octet-stream");
    expect([...raw.bytes]).toEqual([255, 3, 2, 1]);
  });

  it("refuses an unsupported Content-Type or Accept without calling the function", async () => {
    await expectRefusedUncalled(riff, "shape-in");
  });

  it("a returned error is a 500 with its message and type, and the replica keeps serving", async () => {
    const r = await request(riff, "boom-in", "now");
    const pids = await replicaPids(riff, "boom");
    expect(r.status).toBe(500);
    expect(errorOf(r.text)).toMatchObject({ code: "RIFF_FUNCTION_ERROR", message: "kaboom now", details: { name: "errors.errorString" } });
    expect((await request(riff, "boom-in", "again")).status).toBe(500);
    expect(await replicaPids(riff, "boom")).toEqual(pids);
  });

  it("a panic is a 500 with the stack of the function's own frames, and does not kill the replica", async () => {
    const r = await request(riff, "panics-in", "now");
    const pids = await replicaPids(riff, "panics");
    expect(pids).toHaveLength(1);
    const err = errorOf(r.text);
    expect([r.status, err.code, err.message, err.details?.name]).toEqual([500, "RIFF_FUNCTION_ERROR", "oh no now", "panic"]);
    expect(err.details?.stack).toContain("panics.Panics(...)\n\tpanics.go:4");
    expect(err.details?.stack).not.toMatch(/reflect\.|main\.serve/);
    expect((await request(riff, "panics-in", "again")).status).toBe(500);
    expect(await replicaPids(riff, "panics")).toEqual(pids);
  });

  it("fmt.Println goes to riff logs", async () => {
    const log = waitForLog(riff.home, "upper", /upper got logline/);
    expect((await request(riff, "upper-in", "logline")).text).toBe("LOGLINE");
    expect(await log.found).toContain("stdout");
  });

  it("runs a plugin built with go build -buildmode=plugin, loaded by riff's host", async () => {
    expect(await request(riff, "rot13-in", "Hello")).toMatchObject({ status: 200, type: "text/plain", text: "Uryyb" });
  });

  it("a plugin without the handler's symbol fails riff create, naming both", async () => {
    const r = await deploy(riff, "go", "decode", {}, ["--artifact", join(pluginDir, "rot13.so"), "--handler", "Decode"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the Go plugin rot13.so exports no symbol Decode");
  });

  it("builds a module from its vendor/ folder, with no module proxy", async () => {
    expect((await request(riff, "greet-in", "riff")).text).toBe("HELLO RIFF!");
  });

  it("builds riff-style package main sources, --handler naming the func", async () => {
    const d = await deploy(riff, "go", "encode", { "rot13.go": go("main", ["strings"], "func Encode(s string) string { return strings.ToUpper(s) }\n\nfunc main() {}") }, ["--handler", "Encode"]);
    expect(d.stderr + d.stdout).toContain("created");
    expect((await request(riff, "encode-in", "abc")).text).toBe("ABC");
  });

  it("a compile error fails riff create with the compiler's message at the user's file:line", async () => {
    const r = await deploy(riff, "go", "broken", { "broken.go": go("broken", [], "func Broken(s string) string {\n\treturn s.nope()\n}") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${r.dir}/broken.go:4:11: s.nope undefined`);
    expect(r.stderr).not.toContain("/rev-1/");
  });

  it("holds several messages in flight on one replica", async () => {
    // Each call waits until two have arrived: both answer only if they run at the same time.
    const gate = go("gate", ["sync"], "var (\n\tmu      sync.Mutex\n\tarrived int\n\trelease = make(chan struct{})\n)\n\nfunc Gate(s string) string {\n\tmu.Lock()\n\tarrived++\n\tif arrived == 2 {\n\t\tclose(release)\n\t}\n\tmu.Unlock()\n\t<-release\n\treturn s\n}");
    const d = await deploy(riff, "go", "gate", { "gate.go": gate }, ["--max-replicas", "1"]);
    expect(d.code).toBe(0);
    const replies = await Promise.all(["a", "b"].map((x) => request(riff, "gate-in", x)));
    expect(replies.map((r) => r.text).sort()).toEqual(["a", "b"]);
    expect(await replicaPids(riff, "gate")).toHaveLength(1);
  });

  it("an error whose type is named NonRetriableError skips the retries", async () => {
    const strict = go("strict", [], 'type NonRetriableError struct{ Reason string }\n\nfunc (e NonRetriableError) Error() string { return "malformed " + e.Reason }\n\nfunc Strict(s string) (string, error) { return "", NonRetriableError{s} }');
    const d = await deploy(riff, "go", "strict", { "strict.go": strict }, ["--retries", "5"]);
    expect(d.code).toBe(0);
    expect((await fetch(`${riff.url}/messages/${d.input}`, { method: "POST", body: "m" })).status).toBe(202);
    const [dead] = await tailN(riff.home, "strict-dead-letters", 1);
    expect([dead?.headers["riff-dead-letter-error-name"]?.[0], dead?.headers["riff-dead-letter-attempts"]?.[0]]).toEqual(["NonRetriableError", "1"]);
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("malformed m");
  });

  it("examples/go-square applies from its folder and answers", async () => {
    const r = await riff.cli(["apply", "-f", resolve(import.meta.dirname, "../examples/go-square")]);
    expect(r.stdout).toContain("function/go-square created");
    // go build's progress reaches the CLI as it happens, as javac's and npm's do.
    expect(r.stderr).toMatch(/go-square: go: building Square of package square with go1\.\d+[\s\S]*go-square: go: built riff-go-function in/);
    expect((await riff.cli(["publish", "--input", "go-numbers", "--data", "7", "--reply"])).stdout).toBe("49\n");
  });

  it("a missing handler fails riff create, naming it and what the package exports", async () => {
    const r = await deploy(riff, "go", "lost", { "lost.go": go("lost", [], "func Square(x int) int { return x * x }") }, ["--handler", "Cube"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("has no exported func Cube");
    expect(r.stderr).toContain(`Square (${r.dir}/lost.go:3)`);
  });
});

describe("go stream functions through the daemon", () => {
  it("func(<-chan float64) <-chan string: a running mean over 100, 200, 0, 300 gives 100, 150, 100, 150", async () => {
    requireGo();
    await using riff = await startRiff();
    const mean = go("mean", ["strconv"], "func Mean(in <-chan float64) <-chan string {\n\tout := make(chan string)\n\tgo func() {\n\t\tdefer close(out)\n\t\ttotal, n := 0.0, 0\n\t\tfor x := range in {\n\t\t\ttotal += x\n\t\t\tn++\n\t\t\tout <- strconv.FormatFloat(total/float64(n), 'f', 1, 64)\n\t\t}\n\t}()\n\treturn out\n}");
    const double = go("double", [], "func Double(in <-chan int, out chan<- int) {\n\tfor x := range in {\n\t\tout <- 2 * x\n\t}\n}");
    const [m, d] = await Promise.all([
      deploy(riff, "go", "mean", { "mean.go": mean }, ["--output", "go-means"]),
      deploy(riff, "go", "double", { "double.go": double }, ["--output", "go-doubles"]),
    ]);
    expect([m.code, d.code]).toEqual([0, 0]);
    for (const x of ["100", "200", "0", "300"]) {
      expect((await fetch(`${riff.url}/messages/${m.input}`, { method: "POST", body: x })).status).toBe(202);
      expect((await fetch(`${riff.url}/messages/${d.input}`, { method: "POST", body: x })).status).toBe(202);
    }
    expect((await tailN(riff.home, "go-means", 4)).map((o) => o.payload)).toEqual(["100.0", "150.0", "100.0", "150.0"]);
    expect((await tailN(riff.home, "go-doubles", 4)).map((o) => o.payload)).toEqual(["200", "400", "0", "600"]);
  });
});

describe("go functions from the warm pool", () => {
  it("a pooled stub becomes the function's binary: its sandboxed copy, its environment, its panics read as from a fresh start", async () => {
    requireGo();
    await using riff = await startRiff(["--pool-size", "1"]);
    const probe = go("probe", ["os", "strings"], 'func Probe(s string) string {\n\tif s == "panic" {\n\t\tpanic("probe " + s)\n\t}\n\twd, _ := os.Getwd()\n\treturn wd + "|" + os.Getenv("GREETING") + "|" + strings.ToUpper(s)\n}');
    const d = await deploy(riff, "go", "probe", { "probe.go": probe }, ["--env", "GREETING=hi"]);
    expect(d.code, d.stderr).toBe(0);
    // The go pool starts with the first go function; its stub (built once per toolchain) is
    // waiting before the first call, so that call takes it.
    const pooled = await pooledProcessWaiting(riff, "go");
    const r = await request(riff, "probe-in", "x");
    expect(r.status, r.text).toBe(200);
    const [wd, greeting, upper] = r.text.split("|");
    expect(wd).toContain(pooled);
    expect([greeting, upper]).toEqual(["hi", "X"]);
    const p = await request(riff, "probe-in", "panic");
    const err = errorOf(p.text);
    expect([p.status, err.message, err.details?.name]).toEqual([500, "probe panic", "panic"]);
    expect(err.details?.stack).toContain("probe.Probe(...)\n\tprobe.go:10");
  });
});
