import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";
import { until } from "./helpers/until.js";
import { deploy, errorOf, request } from "./invokers-shared.js";

/** A stack trace's frame line: user errors are printed without one. */
const STACK = /\n\s+at .+:\d+:\d+/;
/** A package.json without `main`, like a repository root's. */
const NO_MAIN = JSON.stringify({ name: "project", version: "1.0.0", private: true, devDependencies: { typescript: "*" } });

describe("the node invoker", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  /** The node process of the function's one replica (its sandbox's pid is the replica's). */
  const runtimePid = async (name: string): Promise<number> => {
    const res = await fetch(`${riff.url}/api/v1/functions/${name}`, { headers: { authorization: `Bearer ${riff.token}` } });
    const { replicas } = (await res.json()) as { replicas: { pid?: number }[] };
    const descendants = (pid: number): number[] =>
      [pid, ...readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean).map(Number).flatMap(descendants))];
    const pids = descendants(replicas[0]?.pid ?? 0);
    const node = pids.find((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").startsWith(process.execPath));
    if (node === undefined) throw new Error(`no node process among the replica's ${pids.join(", ")}`);
    return node;
  };
  const anonKiB = (pid: number) => Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

  const post = (topic: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${riff.url}/requests/${topic}`, { method: "POST", body, headers });

  it("a stream function: a running mean over 100, 200, 0, 300 gives 100, 150, 100, 150 on the output topic", async () => {
    const source = `module.exports = async function* mean(inputs) {
  let sum = 0, n = 0;
  for await (const x of inputs) { sum += Number(x); n++; yield sum / n; }
};
`;
    const d = await deployNode(riff, "mean", source, ["--input", "samples", "--output", "means"]);
    expect(d.code).toBe(0);
    for (const x of ["100", "200", "0", "300"]) {
      expect((await fetch(`${riff.url}/messages/samples`, { method: "POST", body: x })).status).toBe(202);
    }
    const out = await tailN(riff.home, "means", 4);
    expect(out.map((m) => m.payload)).toEqual(["100", "150", "100", "150"]);
  });

  it("$argumentType message gives headers, payload and timestamp", async () => {
    const source = `const fn = (m) => ({ tenant: m.headers["x-tenant"], payload: m.payload, hasTime: typeof m.timestamp === "number" });
fn.$argumentType = "message";
module.exports = fn;
`;
    expect((await deployNode(riff, "msg", source, ["--input", "msg-in"])).code).toBe(0);
    const res = await post("msg-in", "hi", { "x-tenant": "acme" });
    expect(await res.json()).toEqual({ tenant: ["acme"], payload: "hi", hasTime: true });
  });

  it("$argumentType headers gives the headers alone", async () => {
    const source = `const fn = (h) => Object.keys(h).sort().join(",");
fn.$argumentType = "headers";
module.exports = fn;
`;
    expect((await deployNode(riff, "hdrs", source, ["--input", "hdrs-in"])).code).toBe(0);
    const res = await post("hdrs-in", "x", { "x-a": "1" });
    // A plain publish is a CloudEvent too: riff adds id, source, type and specversion.
    expect(await res.text()).toBe("ce-id,ce-source,ce-specversion,ce-type,content-type,riff-correlation-id,traceparent,x-a,x-riff-hops");
  });

  it("returning a message sets the output headers", async () => {
    const source = `module.exports = (x) => ({ [Symbol.for("riff.message")]: true, payload: x + "!", headers: { "x-shout": "yes" } });\n`;
    expect((await deployNode(riff, "shout", source, ["--input", "shout-in", "--output", "shouted"])).code).toBe(0);
    expect(await (await post("shout-in", "hey")).text()).toBe("hey!");
    const [m] = await tailN(riff.home, "shouted", 1);
    expect(m?.payload).toBe("hey!");
    expect(m?.headers["x-shout"]).toEqual(["yes"]);
  });

  it("$init runs before the first message", async () => {
    const source = `let ready = false;
const fn = () => ready;
fn.$init = async () => { await new Promise((r) => setTimeout(r, 20)); ready = true; };
module.exports = fn;
`;
    expect((await deployNode(riff, "init", source, ["--input", "init-in"])).code).toBe(0);
    expect(await (await post("init-in", "x")).text()).toBe("true");
  });

  it("an unsupported content type is refused without calling the function", async () => {
    expect((await deployNode(riff, "upper", "module.exports = (x) => { throw new Error('called') }\n", ["--input", "upper-in"])).code).toBe(0);
    const res = await post("upper-in", "x", { "content-type": "image/png" });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_CONTENT_TYPE_UNSUPPORTED");
  });

  it("refuses text that is not UTF-8 with 400 RIFF_INVALID_ARGUMENT, instead of changing it to U+FFFD", async () => {
    expect((await deployNode(riff, "echo-text", "module.exports = (x) => x\n", ["--input", "echo-text-in"])).code).toBe(0);
    for (const type of ["text/plain; charset=latin1", "application/json", "application/x-www-form-urlencoded"]) {
      const res = await post("echo-text-in", new Uint8Array([0x63, 0x61, 0x66, 0xe9]), { "content-type": type });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "RIFF_INVALID_ARGUMENT", message: expect.stringContaining("is not UTF-8 text") });
    }
    // UTF-8 text passes as it came.
    const ok = await post("echo-text-in", "café", { "content-type": "text/plain; charset=utf-8" });
    expect(await ok.text()).toBe("café");
  });

  it("runs TypeScript without a build step", async () => {
    const source = "export default function greet(name: string): string {\n  const greeting: string = `Hello ${name}!`;\n  return greeting;\n}\n";
    const dir = mkdtempSync(join(riff.work, "ts-"));
    writeFileSync(join(dir, "greet.ts"), source);
    const r = await riff.cli(["create", "node", "--name", "greet", "--input", "greet-in", "--filepath", dir]);
    expect(r.code).toBe(0);
    expect(await (await post("greet-in", "riff")).text()).toBe("Hello riff!");
  });

  it("installs a package's dependencies at create, with progress, from a local file: dependency", async () => {
    const root = mkdtempSync(join(riff.work, "pkg-"));
    mkdirSync(join(root, "shout-lib"));
    writeFileSync(join(root, "shout-lib", "package.json"), JSON.stringify({ name: "shout-lib", version: "1.0.0", main: "index.js" }));
    writeFileSync(join(root, "shout-lib", "index.js"), "module.exports = (s) => String(s).toUpperCase() + '!';\n");
    mkdirSync(join(root, "fn"));
    writeFileSync(join(root, "fn", "package.json"), JSON.stringify({ name: "shouter", version: "1.0.0", main: "main.js", dependencies: { "shout-lib": "file:../shout-lib" } }));
    writeFileSync(join(root, "fn", "main.js"), "const shout = require('shout-lib');\nmodule.exports = (x) => shout(x);\n");
    const r = await riff.cli(["create", "node", "--name", "shouter", "--input", "shouter-in", "--filepath", join(root, "fn")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("shouter: installing dependencies: shout-lib");
    expect(r.stderr).toContain("shouter: dependencies installed");
    expect(await (await post("shouter-in", "hey")).text()).toBe("HEY!");
  });

  it("imports @riff/sdk from a function file", async () => {
    const source = `const { countBy } = require("@riff/sdk");\nmodule.exports = (x) => countBy(String(x).split(" "), (w) => w);\n`;
    expect((await deployNode(riff, "counter", source, ["--input", "counter-in"])).code).toBe(0);
    expect(await (await post("counter-in", "a b a")).json()).toEqual({ a: 2, b: 1 });
  });

  it("keeps each partition's order: messages run one at a time even when async", async () => {
    const source = `let running = 0, overlapped = false, seen = [];
module.exports = async (x) => {
  running++; if (running > 1) overlapped = true;
  await new Promise((r) => setTimeout(r, 2));
  seen.push(Number(x)); running--;
  return JSON.stringify({ overlapped, seen });
};
`;
    expect((await deployNode(riff, "order", source, ["--input", "order-in"])).code).toBe(0);
    for (let i = 0; i < 20; i++) await fetch(`${riff.url}/messages/order-in`, { method: "POST", body: String(i) });
    const last = (await (await post("order-in", "20")).json()) as { overlapped: boolean; seen: number[] };
    expect(last.overlapped).toBe(false);
    expect(last.seen).toEqual(Array.from({ length: 21 }, (_, i) => i));
  });

  it("an idle replica gives back the heap a load grew, without being asked; neither the function's global nor its contexts get gc", async () => {
    // A million objects held from one call to the next, then let go: V8 keeps the old space it
    // grew for them, idle, until something makes it collect; the shim does so after a quiet
    // second (idle-trim.ts).
    const source = `let held;
module.exports = (x) => {
  if (x === "grow") { held = []; for (let i = 0; i < 1e6; i++) held.push({ i, s: "x" + i }); }
  else if (x === "drop") held = undefined;
  return typeof gc + "," + require("node:vm").runInNewContext("typeof gc");
};
`;
    expect((await deployNode(riff, "grower", source, ["--input", "grower-in"])).code).toBe(0);
    const text = { "content-type": "text/plain" };
    expect(await (await post("grower-in", "grow", text)).text()).toBe("undefined,undefined");
    // Read while the objects are still held: no collection can have freed them yet.
    const pid = await runtimePid("grower");
    // Started with the small young generation docs/invokers.md names.
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain("--max-semi-space-size=2");
    const held = anonKiB(pid);
    expect(held).toBeGreaterThan(80 * 1024);
    expect(await (await post("grower-in", "drop", text)).text()).toBe("undefined,undefined");
    const trimmed = await until("the idle replica's own memory to fall by 60 MiB", () => {
      const now = anonKiB(pid);
      return now < held - 60 * 1024 ? now : undefined;
    });
    expect(trimmed).toBeLessThan(held - 60 * 1024);
    // The trim made its gc in a context of its own: a context made after it has none.
    expect(await (await post("grower-in", "look", text)).text()).toBe("undefined,undefined");
  });

  describe("which file of a folder is the function", () => {
    it("the walkthrough in a folder with a package.json without main: square.js runs, and node_modules and .git are not copied", async () => {
      const d = await deploy(riff, "node", "square", {
        "package.json": NO_MAIN,
        "square.js": "module.exports = (x) => x ** 2\n",
        "helper.js": "module.exports = () => 'not the function';\n",
        "node_modules/big/index.js": "module.exports = 'a package the user installed';\n",
        ".git/HEAD": "ref: refs/heads/main\n",
      });
      expect(d.stderr).not.toContain("Error");
      expect(d.code).toBe(0);
      expect(d.stderr).toContain("square: loading square.js: package.json has no main and no index.js; square.js is named after the function");
      const r = await riff.cli(["publish", "--input", d.input, "--data", "10", "--reply"], d.dir);
      expect(r.stdout).toBe("100\n");
      const revision = join(riff.home, "functions", "square", "rev-1");
      expect([existsSync(join(revision, "square.js")), existsSync(join(revision, ".git")), existsSync(join(revision, "node_modules", "big"))]).toEqual([true, false, false]);
    });

    it("without main, index.js comes first, then the only function file", async () => {
      const index = await deploy(riff, "node", "idx", { "package.json": NO_MAIN, "index.js": "module.exports = (x) => `index:${x}`;\n", "idx.js": "module.exports = () => 'named';\n" });
      expect(index.code).toBe(0);
      expect(index.stderr).toContain("loading index.js: package.json has no main; index.js is Node's default");
      const only = await deploy(riff, "node", "only", { "package.json": NO_MAIN, "handler.mjs": "export default (x) => `only:${x}`;\n" });
      expect(only.code).toBe(0);
      expect(only.stderr).toContain("loading handler.mjs: package.json has no main and no index.js or only.js; handler.mjs is the folder's only .js, .mjs, .cjs or .ts file");
      expect([(await request(riff, index.input, "x")).text, (await request(riff, only.input, "x")).text]).toEqual(["index:x", "only:x"]);
    });

    it("two files and nothing to choose by: create fails naming the folder and both files, without a stack, and --artifact fixes it", async () => {
      const files = { "a.js": "module.exports = (x) => `a:${x}`;\n", "b.js": "module.exports = (x) => `b:${x}`;\n" };
      const d = await deploy(riff, "node", "two", { "package.json": NO_MAIN, ...files });
      expect(d.code).toBe(1);
      expect(d.stderr).toContain(
        `Error: riff cannot tell which file in ${d.dir} is the function 'two': package.json has no main, there is no index.js or two.js, and 2 files could be it: a.js, b.js\n`,
      );
      expect(d.stderr).toContain('  add "main": "FILE" to package.json, or run riff create again with --artifact FILE --force');
      expect(d.stderr).not.toMatch(STACK);
      expect(d.stderr).not.toContain("failed to start");
      const fixed = await riff.cli(["create", "node", "--name", "two", "--input", d.input, "--filepath", d.dir, "--artifact", "b.js", "--force"], d.dir);
      expect(fixed.code).toBe(0);
      expect((await request(riff, d.input, "x")).text).toBe("b:x");
      // Without a package.json, riff create itself says the same.
      const bare = await deploy(riff, "node", "bare", files);
      expect(bare.code).toBe(1);
      expect(bare.stderr).toContain(`Error: several files in ${bare.dir} could be the function 'bare': a.js, b.js\n`);
      expect(bare.stderr).toContain('  pick one with --artifact FILE, or name it bare.js, or add a package.json whose "main" names it');
    });

    it("package.json's main wins over index.js and NAME.js, and --artifact wins over main", async () => {
      const files = {
        "package.json": JSON.stringify({ name: "withmain", version: "1.0.0", main: "lib/handler.js" }),
        "lib/handler.js": "module.exports = (x) => `main:${x}`;\n",
        "index.js": "module.exports = () => 'index';\n",
        "withmain.js": "module.exports = () => 'named';\n",
        "other.js": "module.exports = (x) => `other:${x}`;\n",
      };
      const main = await deploy(riff, "node", "withmain", files);
      expect(main.code).toBe(0);
      expect(main.stderr).toContain("withmain: loading lib/handler.js: package.json's main");
      const explicit = await deploy(riff, "node", "explicit", files, ["--artifact", "other.js"]);
      expect(explicit.code).toBe(0);
      expect([(await request(riff, main.input, "x")).text, (await request(riff, explicit.input, "x")).text]).toEqual(["main:x", "other:x"]);
    });

    it("a main that names no file, or a module that cannot be found, is said in riff's words: which file, and why", async () => {
      const badMain = await deploy(riff, "node", "badmain", { "package.json": JSON.stringify({ name: "b", main: "dist/index.js" }), "src.js": "module.exports = () => 1;\n" });
      expect(badMain.code).toBe(1);
      expect(badMain.stderr).toContain(`Error: package.json's main is 'dist/index.js', but there is no such file in ${badMain.dir}\n`);
      const missing = await deploy(riff, "node", "needs", { "package.json": NO_MAIN, "needs.js": "const pad = require('riff-test-not-installed');\nmodule.exports = (x) => pad(x);\n" });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("could not load needs.js: needs.js imports 'riff-test-not-installed', which is not installed.");
      expect(missing.stderr).toContain("list the package in the dependencies (not devDependencies) of a package.json");
      for (const r of [badMain, missing]) {
        expect(r.stderr).not.toMatch(STACK);
        expect(r.stderr).not.toContain("noop.js");
      }
    });

    it("a thrown error's stack shows the function's frames, not the shim's", async () => {
      const d = await deploy(riff, "node", "thrower", { "thrower.js": "module.exports = () => { throw new Error('kaboom'); };\n" });
      expect(d.code).toBe(0);
      const err = errorOf((await request(riff, d.input, "x")).text);
      expect(err.details?.stack).toContain("thrower.js:1:");
      expect(err.details?.stack).not.toMatch(/shim|node:internal/);
    });
  });
});
