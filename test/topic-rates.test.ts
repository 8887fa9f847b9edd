import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

// A topic's rate holds for every caller of the gateway together, keyed or not (docs/security.md).

const post = (riff: RiffFixture, topic: string, key?: string) =>
  fetch(`${riff.url}/messages/${topic}`, { method: "POST", body: "x", headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

interface ErrorBody {
  error: { code: string; message: string; details?: { topic?: string; rate?: number; retryAfterS?: number } };
}

// One publish every 1000 s: the second one at once is over it, however slow this machine is.
const SLOW = "0.001";

describe("a rate per topic", () => {
  it("holds for all callers together: 429 RIFF_RATE_LIMITED with Retry-After and a body naming the topic", async () => {
    await using riff = await startRiff();
    const made = await riff.cli(["topics", "create", "orders", "--rate", SLOW]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stdout).toContain("at most 0.001/s through the gateway, all callers together");
    expect((await riff.cli(["topics", "create", "free"])).code).toBe(0);

    expect((await post(riff, "orders")).status).toBe(202);
    const over = await post(riff, "orders");
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await over.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: "RIFF_RATE_LIMITED", details: { topic: "orders", rate: 0.001 } });
    expect(body.error.message).toContain("topic 'orders'");

    // A topic without a rate is not touched.
    const free = [];
    for (let i = 0; i < 20; i++) free.push((await post(riff, "free")).status);
    expect(free).toEqual(Array(20).fill(202));

    // The same bucket for a keyed caller, the operator (riff publish) and a function through its replica's path.
    const key = (await riff.cli(["keys", "create", "--topic", "orders", "--topic", "free"])).stdout.trim();
    const keyed = await post(riff, "orders", key);
    expect(keyed.status).toBe(429);
    expect(((await keyed.json()) as ErrorBody).error.code).toBe("RIFF_RATE_LIMITED");
    expect((await post(riff, "free", key)).status).toBe(202);
    const op = await riff.cli(["publish", "--input", "orders", "--data", "op"]);
    expect(op.code).not.toBe(0);
    expect(op.stderr).toContain("RIFF_RATE_LIMITED");
    const source = `module.exports = async () => String((await fetch(process.env.RIFF_GATEWAY_URL + "/messages/orders", { method: "POST", body: "f" })).status);\n`;
    expect((await deployNode(riff, "feeder", source, ["--input", "feed"])).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "feed", "--data", "1", "--reply"])).stdout).toBe("429\n");

    // Shown, and lifted.
    const described = await riff.cli(["topics", "describe", "orders", "-o", "json"]);
    expect(JSON.parse(described.stdout)).toMatchObject({ name: "orders", rate: 0.001 });
    expect((await riff.cli(["topics", "describe", "orders"])).stdout).toContain("rate: at most 0.001/s");
    expect((await riff.cli(["topics", "create", "orders", "--rate", "none"])).stdout).toContain("no rate");
    expect((await post(riff, "orders", key)).status).toBe(202);
  });

  it("comes from a Topic document's spec.rate, and goes with the topic", async () => {
    await using riff = await startRiff();
    const file = join(riff.work, "topic.yaml");
    writeFileSync(file, `apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: ticks\nspec:\n  rate: ${SLOW}\n`);
    const applied = await riff.cli(["apply", "-f", file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await post(riff, "ticks")).status).toBe(202);
    expect((await post(riff, "ticks")).status).toBe(429);
    expect((await riff.cli(["topics", "delete", "ticks"])).code).toBe(0);
    expect((await riff.cli(["topics", "create", "ticks"])).code).toBe(0);
    expect((await post(riff, "ticks")).status).toBe(202);
    expect((await post(riff, "ticks")).status).toBe(202);
  });

  it("refuses a rate that is not a positive number, naming the flag or the field", async () => {
    await using riff = await startRiff();
    for (const bad of ["0", "-1", "fast", ""]) {
      const r = await riff.cli(["topics", "create", "orders", "--rate", bad]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`--rate ${bad}`);
    }
    const res = await fetch(`${riff.url}/api/v1/topics`, {
      method: "POST",
      headers: { authorization: `Bearer ${riff.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "orders", rate: "fast" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.message).toContain("body.rate");
    const file = join(riff.work, "topic.yaml");
    writeFileSync(file, `apiVersion: projectriff.io/v1alpha1\nkind: Topic\nmetadata:\n  name: ticks\nspec:\n  rate: 0\n`);
    const applied = await riff.cli(["apply", "-f", file]);
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain("spec.rate");
  });
});
