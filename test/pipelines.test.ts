import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";

describe("pipelines", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  const publish = (topic: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${riff.url}/messages/${topic}`, { method: "POST", body, headers });

  it("a chain of three functions keeps per-key order under load and carries headers through", async () => {
    expect((await riff.cli(["topics", "create", "p-in", "--partitions", "4"])).code).toBe(0);
    for (const [name, input, output] of [["p-one", "p-in", "p-a"], ["p-two", "p-a", "p-b"], ["p-three", "p-b", "p-out"]] as const) {
      const src = `module.exports = async (x) => { await new Promise((r) => setTimeout(r, Math.random() * 3)); return x + "-${name.slice(2)}"; };\n`;
      expect((await deployNode(riff, name, src, ["--input", input, "--output", output, "--partitions", "4"])).code).toBe(0);
    }
    const keys = ["k0", "k1", "k2", "k3", "k4", "k5"];
    const perKey = 40;
    // Each key's messages in order; keys interleaved and published concurrently.
    await Promise.all(
      keys.map(async (k) => {
        for (let i = 0; i < perKey; i++) {
          const res = await publish("p-in", `${k}:${i}`, { "x-riff-key": k, "x-user": "u1" });
          expect(res.status).toBe(202);
        }
      }),
    );
    const out = await tailN(riff.home, "p-out", keys.length * perKey);
    for (const k of keys) {
      const seq = out.filter((m) => m.payload.startsWith(`${k}:`)).map((m) => Number(m.payload.split(":")[1]?.split("-")[0]));
      expect(seq).toEqual(Array.from({ length: perKey }, (_, i) => i));
    }
    const sample = out[0];
    expect(sample?.payload).toMatch(/^k\d:\d+-one-two-three$/);
    expect(sample?.headers["x-user"]).toEqual(["u1"]);
    expect(sample?.headers["traceparent"]?.[0]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(sample?.headers["x-riff-hops"]).toEqual(["3"]);
  });

  it("four functions on one topic each see every message", async () => {
    for (const n of [1, 2, 3, 4]) {
      expect((await deployNode(riff, `fan${n}`, `module.exports = (x) => "${n}:" + x;\n`, ["--input", "fan-in", "--output", `fan-out${n}`])).code).toBe(0);
    }
    for (let i = 0; i < 25; i++) expect((await publish("fan-in", String(i))).status).toBe(202);
    for (const n of [1, 2, 3, 4]) {
      const got = await tailN(riff.home, `fan-out${n}`, 25);
      expect(got.map((m) => m.payload).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `${n}:${i}`).sort());
    }
  });

  it("a function may read several topics and gets every message of each", async () => {
    expect((await deployNode(riff, "merge", "module.exports = (x) => 'merged:' + x;\n", ["--input", "m-left,m-right", "--output", "m-out"])).code).toBe(0);
    for (let i = 0; i < 5; i++) {
      expect((await publish("m-left", `l${i}`)).status).toBe(202);
      expect((await publish("m-right", `r${i}`)).status).toBe(202);
    }
    const got = await tailN(riff.home, "m-out", 10);
    expect(got.map((m) => m.payload).sort()).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`merged:l${i}`, `merged:r${i}`]).sort());
    const list = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; inputs: string[] }[];
    expect(list.find((f) => f.name === "merge")?.inputs).toEqual(["m-left", "m-right"]);
  });

  it("a /requests caller can wait for the reply from the end of the pipeline", async () => {
    expect((await deployNode(riff, "r-add", "module.exports = (x) => Number(x) + 1;\n", ["--input", "r-in", "--output", "r-mid"])).code).toBe(0);
    expect((await deployNode(riff, "r-double", "module.exports = (x) => Number(x) * 2;\n", ["--input", "r-mid"])).code).toBe(0);
    const own = await fetch(`${riff.url}/requests/r-in`, { method: "POST", body: "5" });
    expect(await own.text()).toBe("6");
    const end = await fetch(`${riff.url}/requests/r-in`, { method: "POST", body: "5", headers: { "x-riff-reply-from": "end" } });
    expect(await end.text()).toBe("12");
  });

  it("the end of a pipeline is the function whose output no function reads", async () => {
    expect((await deployNode(riff, "e-add", "module.exports = (x) => Number(x) + 1;\n", ["--input", "e-in", "--output", "e-mid"])).code).toBe(0);
    // The last stage writes to a topic nobody reads (yet): it answers the caller.
    expect((await deployNode(riff, "e-double", "module.exports = (x) => Number(x) * 2;\n", ["--input", "e-mid", "--output", "e-out"])).code).toBe(0);
    const end = await fetch(`${riff.url}/requests/e-in`, { method: "POST", body: "5", headers: { "x-riff-reply-from": "end" } });
    expect(await end.text()).toBe("12");
    // Once a function reads e-out, the end moves there.
    expect((await deployNode(riff, "e-neg", "module.exports = (x) => -Number(x);\n", ["--input", "e-out"])).code).toBe(0);
    const further = await fetch(`${riff.url}/requests/e-in`, { method: "POST", body: "5", headers: { "x-riff-reply-from": "end" } });
    expect(await further.text()).toBe("-12");
    const [seen] = await tailN(riff.home, "e-out", 1);
    expect(seen?.payload).toBe("12");
  });

  it("refuses a function that closes a cycle, naming it", async () => {
    expect((await deployNode(riff, "c-square", "module.exports = (x) => x * x;\n", ["--input", "c-numbers", "--output", "c-squares"])).code).toBe(0);
    const back = await deployNode(riff, "c-back", "module.exports = (x) => x;\n", ["--input", "c-squares", "--output", "c-numbers"]);
    expect(back.code).toBe(1);
    expect(back.stderr).toContain("c-squares -> c-back -> c-numbers -> c-square -> c-squares");
    expect(back.stderr).toContain("--allow-cycle");
    const graph = await riff.cli(["graph", "-o", "mermaid"]);
    expect(graph.stdout).toContain("t_c_numbers --> f_c_square");
    expect(graph.stdout).not.toContain("f_c_back");
    // In the terminal, riff's own topics are not listed among the unused ones.
    const text = await riff.cli(["graph"]);
    expect(text.stdout).toContain("c-numbers ─▶ [c-square] ─▶ c-squares");
    expect(text.stdout).not.toContain("riff-dead-letters");
    expect(text.stdout).not.toContain("riff-invocations");
    // Nor a function's own dead-letter topic: riff writes it for the function.
    expect(text.stdout).not.toContain("c-square-dead-letters");
  });

  it("stops a loop through the gateway at the hop limit and sends the message to the dead-letter topic", async () => {
    const source = `const fn = async (m) => {
  await fetch(process.env.RIFF_GATEWAY_URL + "/messages/echo-loop", {
    method: "POST", body: String(m.payload), headers: { "x-riff-hops": m.headers["x-riff-hops"][0] },
  });
  return m.payload;
};
fn.$argumentType = "message";
module.exports = fn;
`;
    expect((await deployNode(riff, "echo-loop", source, ["--input", "echo-loop"])).code).toBe(0);
    expect((await publish("echo-loop", "round")).status).toBe(202);
    const [dead] = await tailN(riff.home, "echo-loop-dead-letters", 1);
    expect(dead?.payload).toBe("round");
    expect(dead?.headers["riff-dead-letter-function"]).toEqual(["echo-loop"]);
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("hop limit of 16");
    const list = await riff.cli(["list"]);
    expect(list.stdout).toMatch(/echo-loop\s+node\s+echo-loop\s+-\s+looping/);
  });
});
