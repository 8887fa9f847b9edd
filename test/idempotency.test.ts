import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";
import { startSideChannel } from "./helpers/side-channel.js";

const post = (riff: RiffFixture, path: string, body: string, key?: string) =>
  fetch(`${riff.url}${path}`, { method: "POST", body, headers: { "content-type": "text/plain", ...(key === undefined ? {} : { "idempotency-key": key }) } });

async function ends(riff: RiffFixture, topic: string): Promise<number> {
  const d = JSON.parse((await riff.cli(["topics", "describe", topic, "-o", "json"])).stdout) as { offsets: { end: number }[] };
  return d.offsets.reduce((n, o) => n + o.end, 0);
}

describe("Idempotency-Key", () => {
  it("publishes a /messages body once per key: a repeat gets the first position, another body with the key a 422", async () => {
    await using riff = await startRiff();
    expect((await riff.cli(["topics", "create", "orders"])).code).toBe(0);
    const first = await post(riff, "/messages/orders", "order 7", "order-7");
    expect(first.status).toBe(202);
    const again = await post(riff, "/messages/orders", "order 7", "order-7");
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(await first.json());
    expect(await ends(riff, "orders")).toBe(1);
    const other = await post(riff, "/messages/orders", "order 8", "order-7");
    expect(other.status).toBe(422);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("RIFF_IDEMPOTENCY_CONFLICT");
    // Without a key, or with another, every POST publishes.
    expect((await post(riff, "/messages/orders", "order 7")).status).toBe(202);
    expect((await post(riff, "/messages/orders", "order 7", "order-7b")).status).toBe(202);
    expect(await ends(riff, "orders")).toBe(3);
    const bad = await post(riff, "/messages/orders", "x", "k".repeat(256));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain("Idempotency-Key header");
  });

  it("runs a /requests call once per key, repeats at once included, and answers each with the first reply", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    const source = `module.exports = async (x) => { await fetch("${channel.url}/lines/calls", { method: "POST", body: x }); return "charged " + x; };\n`;
    expect((await deployNode(riff, "charge", source, ["--input", "charges"])).code).toBe(0);
    const answers = await Promise.all([1, 2, 3].map(() => post(riff, "/requests/charges", "10 EUR", "charge-1")));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(await Promise.all(answers.map((r) => r.text()))).toEqual(["charged 10 EUR", "charged 10 EUR", "charged 10 EUR"]);
    expect(answers.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(2);
    const later = await post(riff, "/requests/charges", "10 EUR", "charge-1");
    expect(await later.text()).toBe("charged 10 EUR");
    expect(channel.lines("calls")).toEqual(["10 EUR"]);
    expect(await ends(riff, "charges")).toBe(1);
  });

  it("riff publish --id publishes once however often it is run", async () => {
    await using riff = await startRiff();
    expect((await riff.cli(["topics", "create", "events"])).code).toBe(0);
    for (let i = 0; i < 3; i++) expect((await riff.cli(["publish", "--input", "events", "--data", "e1", "--id", "event-1"])).code).toBe(0);
    expect(await ends(riff, "events")).toBe(1);
  });
});
