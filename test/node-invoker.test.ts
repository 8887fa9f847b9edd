import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";

describe("the node invoker", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  const post = (topic: string, body: string, headers: Record<string, string> = {}) =>
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
    expect(await res.text()).toBe("content-type,riff-correlation-id,traceparent,x-a,x-riff-hops");
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
});
