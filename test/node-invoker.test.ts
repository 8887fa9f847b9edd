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
