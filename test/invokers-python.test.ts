import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, tailN, waitForLog, type RiffFixture } from "./helpers/riff.js";
import { deploy, errorOf, expectRefusedUncalled, publishHello, replicaPids, request } from "./invokers-shared.js";

// The python3 invoker through a real daemon, the CLI and real Python replicas.
describe("the python3 invoker", () => {
  let riff: RiffFixture;

  beforeAll(async () => {
    riff = await startRiff();
    const deploys = await Promise.all([
      deploy(riff, "python3", "upper", { "upper.py": "def upper(x):\n    return x.upper()\n" }),
      deploy(riff, "python3", "shape", {
        "shape.py": [
          "calls = 0",
          "def shape(x):",
          "    global calls",
          "    calls += 1",
          "    print('shape called with', type(x).__name__, flush=True)",
          "    return {'type': type(x).__name__, 'value': x.hex() if isinstance(x, bytes) else x, 'calls': calls}",
          "",
        ].join("\n"),
      }),
      deploy(riff, "python3", "echo", { "echo.py": "def echo(x):\n    return x\n" }),
      deploy(riff, "python3", "hello", { "greet.py": "async def hello(name):\n    return 'hello ' + name\n" }, ["--handler", "hello"]),
      deploy(riff, "python3", "boom", { "boom.py": "def boom(x):\n    raise ValueError('kaboom ' + x)\n" }),
      deploy(riff, "python3", "raw", { "raw.py": "def raw(x):\n    return bytes([1, 2, 3])\n" }),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("passes riff's conformance check: publish hello --reply prints HELLO", async () => {
    const r = await publishHello(riff, "upper-in");
    expect(r.stdout).toBe("HELLO\n");
    expect(r.code).toBe(0);
  });

  it("runs async def functions, named by --handler", async () => {
    const r = await request(riff, "hello-in", "riff");
    expect(r).toMatchObject({ status: 200, type: "text/plain", text: "hello riff" });
  });

  it("decodes by Content-Type: str, dict, bytes, form dict; a dict result is JSON", async () => {
    const text = await request(riff, "shape-in", "hi", { "content-type": "text/plain; charset=utf-8" });
    expect(text.type).toBe("application/json");
    expect(JSON.parse(text.text)).toMatchObject({ type: "str", value: "hi" });
    const json = await request(riff, "shape-in", '{"a":1}', { "content-type": "application/json" });
    expect(JSON.parse(json.text)).toMatchObject({ type: "dict", value: { a: 1 } });
    const bytes = await request(riff, "shape-in", new Uint8Array([1, 2, 255]), { "content-type": "application/octet-stream", accept: "application/json" });
    expect(JSON.parse(bytes.text)).toMatchObject({ type: "bytes", value: "0102ff" });
    const form = await request(riff, "shape-in", "a=1&b=two", { "content-type": "application/x-www-form-urlencoded", accept: "application/json" });
    expect(JSON.parse(form.text)).toMatchObject({ type: "dict", value: { a: "1", b: "two" } });
  });

  it("encodes for Accept with q-values; bytes stay bytes", async () => {
    const asText = await request(riff, "echo-in", '"v"', { "content-type": "application/json", accept: "application/json;q=0.5, text/plain;q=0.9" });
    expect(asText).toMatchObject({ status: 200, type: "text/plain", text: "v" });
    const asJson = await request(riff, "echo-in", "v", { accept: "application/*" });
    expect(asJson).toMatchObject({ type: "application/json", text: '"v"' });
    const raw = await request(riff, "raw-in", "x");
    expect(raw.type).toBe("application/octet-stream");
    expect([...raw.bytes]).toEqual([1, 2, 3]);
  });

  it("refuses an unsupported Content-Type or Accept without calling the function", async () => {
    await expectRefusedUncalled(riff, "shape-in");
  });

  it("refuses text that is not UTF-8 with 400 RIFF_INVALID_ARGUMENT, not as the function's error", async () => {
    for (const type of ["text/plain; charset=latin1", "application/json", "application/x-www-form-urlencoded"]) {
      const r = await request(riff, "shape-in", new Uint8Array([0x63, 0x61, 0x66, 0xe9]), { "content-type": type });
      expect(r.status, r.text).toBe(400);
      expect(errorOf(r.text)).toMatchObject({ code: "RIFF_INVALID_ARGUMENT" });
      expect(errorOf(r.text).message).toContain("is not UTF-8 text");
    }
  });

  it("a raised exception is a 500 with the message and the traceback, and the replica survives", async () => {
    const r = await request(riff, "boom-in", "now");
    // Taken after the first call: the replica warmed at create may have idled out by now.
    const pids = await replicaPids(riff, "boom");
    expect(pids).toHaveLength(1);
    expect(r.status).toBe(500);
    const err = errorOf(r.text);
    expect(err).toMatchObject({ code: "RIFF_FUNCTION_ERROR", message: "kaboom now" });
    expect(err.details?.name).toBe("ValueError");
    expect(err.details?.stack).toContain('boom.py", line 2, in boom');
    expect(err.details?.stack).not.toContain("_riff_shim");
    expect((await request(riff, "boom-in", "again")).status).toBe(500);
    expect(await replicaPids(riff, "boom")).toEqual(pids);
  });

  it("print() goes to riff logs", async () => {
    const log = waitForLog(riff.home, "shape", /shape called with str/);
    await request(riff, "shape-in", "logged");
    expect(await log.found).toContain("stdout");
  });

  it("--handler module.function runs a function of another module when the artifact is a folder", async () => {
    const d = await deploy(riff, "python3", "lib", { "lib.py": "def shout(x):\n    return x.upper() + '!'\n", "main.py": "" }, ["--artifact", ".", "--handler", "lib.shout"]);
    expect(d.stderr + d.stdout).toContain("created");
    expect((await request(riff, "lib-in", "hey")).text).toBe("HEY!");
  });

  it("imports installed packages although the interpreter runs without site (-S)", async () => {
    const d = await deploy(riff, "python3", "sitepkg", { "sitepkg.py": "import pip\ndef sitepkg(x):\n    return pip.__name__\n" });
    expect(d.stderr + d.stdout).toContain("created");
    expect((await request(riff, "sitepkg-in", "x")).text).toBe("pip");
  });

  it("a syntax error fails riff create with Python's own message", async () => {
    const r = await deploy(riff, "python3", "broken", { "broken.py": "def broken(x)\n    return x\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("SyntaxError");
    // The user's file, not riff's copy of it (in the revision folder or a warm-pool folder).
    expect(r.stderr).toContain(`${r.dir}/broken.py`);
    expect(r.stderr).not.toMatch(/\/rev-1\/|\/pool\//);
  });

  it("a missing handler fails riff create, naming what the module defines", async () => {
    const r = await deploy(riff, "python3", "nohandler", { "nohandler.py": "def other(x):\n    return x\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("has no function 'nohandler'");
    expect(r.stderr).toContain("other");
  });

  it("an import error fails riff create with the traceback", async () => {
    const r = await deploy(riff, "python3", "noimport", { "noimport.py": "import not_a_module_anywhere\ndef noimport(x):\n    return x\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("No module named 'not_a_module_anywhere'");
  });
});

describe("python stream functions through the daemon", () => {
  it("a running mean over 100, 200, 0, 300 gives 100, 150, 100, 150 on the output topic", async () => {
    await using riff = await startRiff();
    const source = `def mean(inputs):
    total, n = 0, 0
    for x in inputs:
        total += float(x)
        n += 1
        yield str(total / n)
`;
    const d = await deploy(riff, "python3", "mean", { "mean.py": source }, ["--output", "py-means"]);
    expect(d.code).toBe(0);
    for (const x of ["100", "200", "0", "300"]) {
      expect((await fetch(`${riff.url}/messages/${d.input}`, { method: "POST", body: x })).status).toBe(202);
    }
    const out = await tailN(riff.home, "py-means", 4);
    expect(out.map((m) => m.payload)).toEqual(["100.0", "150.0", "100.0", "150.0"]);
    // Every input handed to the stream counts as handled.
    const [fn] = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { replicas: { handled: number }[] }[];
    expect(fn?.replicas.map((r) => r.handled)).toEqual([4]);
  });

  it("imports riff_windows, gets timestamps with argument_type 'message', and yields open windows when it scales to zero", async () => {
    await using riff = await startRiff();
    // An hour-long event-time window closes only when the input ends: here, when the idle
    // replica is stopped.
    const source = `from riff_windows import tumbling_window

argument_type = "message"

def collect(messages):
    for w in tumbling_window(messages, size_ms=3_600_000):
        yield ",".join("%s:%s" % (m["payload"], w.start <= m["timestamp"] < w.end) for m in w.items)
`;
    const d = await deploy(riff, "python3", "collect", { "collect.py": source }, ["--output", "py-collected", "--idle-timeout", "300ms"]);
    expect(d.code).toBe(0);
    // A stream sends no replies: create points at its output topic instead.
    expect(d.stderr).toContain("watch riff topics tail py-collected -f");
    expect(d.stderr).not.toContain("--reply");
    for (const x of ["a", "b", "c"]) {
      expect((await fetch(`${riff.url}/messages/${d.input}`, { method: "POST", body: x, headers: { "content-type": "text/plain" } })).status).toBe(202);
    }
    const [out] = await tailN(riff.home, "py-collected", 1);
    expect(out?.payload).toBe("a:True,b:True,c:True");
  });
});
