import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN } from "./helpers/riff.js";

// The daemon with its topics on NATS JetStream (a nats-server of this file's own) instead of
// the embedded log: the same walkthrough, pipelines and restarts.
describe("riff on NATS JetStream", () => {
  let nats: TestNatsServer;
  beforeAll(async () => {
    nats = await startTestNatsServer();
  });
  afterAll(async () => nats.stop());

  it("runs the walkthrough, a pipeline, and keeps both across a restart", async () => {
    await using riff = await startRiff(["--broker", nats.url]);
    expect((await riff.cli(["system", "status"])).stdout).toContain(`topics: ${nats.url}`);
    expect((await deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers", "--output", "squares"])).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "10", "--reply"])).stdout).toBe("100\n");
    const [first] = await tailN(riff.home, "squares", 1);
    expect(first?.payload).toBe("100");
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    await riff.restart();
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "3", "--reply"])).stdout).toBe("9\n");
    const out = await tailN(riff.home, "squares", 2);
    expect(out.map((m) => m.payload)).toEqual(["100", "9"]);
    // Started again without --broker, the home keeps its topics where they are.
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    expect((await riff.cli(["system", "start", "--port", "0"])).code).toBe(0);
    expect((await riff.cli(["system", "status"])).stdout).toContain(`topics: ${nats.url}`);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "4", "--reply"])).stdout).toBe("16\n");
  });

  it("refuses a --broker that is neither embedded nor a NATS URL, naming the flag", async () => {
    await expect(startRiff(["--broker", "kafka://x"])).rejects.toThrow(/--broker kafka:\/\/x: not 'embedded' nor a NATS URL/);
  });

  it("says plainly that a NATS server does not answer: the user's to fix, not a bug", async () => {
    const err = await startRiff(["--broker", "nats://127.0.0.1:1"]).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain("cannot connect to the NATS server at nats://127.0.0.1:1");
    expect(err?.message).toContain("nats-server -js");
    expect(err?.message).not.toMatch(/bug in riff/i);
  });
});
