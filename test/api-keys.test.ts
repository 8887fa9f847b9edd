import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

const post = (riff: RiffFixture, topic: string, key?: string) =>
  fetch(`${riff.url}/messages/${topic}`, { method: "POST", body: "x", headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe("API keys of the gateway", () => {
  it("open without keys; from the first key on, publishing needs one for its topic, within its rate", async () => {
    await using riff = await startRiff();
    for (const t of ["orders", "audit"]) expect((await riff.cli(["topics", "create", t])).code).toBe(0);
    expect((await post(riff, "orders")).status).toBe(202);

    // One every 10 s: the second publish at once is over it, however slow this machine is.
    const made = await riff.cli(["keys", "create", "--topic", "orders", "--rate", "0.1"]);
    expect(made.code, made.stderr).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^riff_[0-9a-f]{8}_/);
    // Only its hash is kept: the key is nowhere in riff's answers.
    const listed = await riff.cli(["keys", "list", "-o", "json"]);
    expect(listed.stdout).not.toContain(key);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ topics: ["orders"], rate: 0.1 }]);

    const none = await post(riff, "orders");
    expect(none.status).toBe(401);
    expect(await codeOf(none)).toBe("RIFF_UNAUTHORIZED");
    const wrong = await post(riff, "orders", "riff_00000000_nope");
    expect(wrong.status).toBe(401);
    const elsewhere = await post(riff, "audit", key);
    expect(elsewhere.status).toBe(403);
    expect(await codeOf(elsewhere)).toBe("RIFF_FORBIDDEN");

    // Within its rate, then over it: a 429 that says when to come back.
    const burst = [];
    for (let i = 0; i < 2; i++) burst.push(await post(riff, "orders", key));
    expect(burst.map((r) => r.status)).toEqual([202, 429]);
    expect(Number(burst[1]?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await codeOf(burst[1] as Response)).toBe("RIFF_RATE_LIMITED");

    // The operator publishes with the admin token (riff publish sends it), and functions through
    // their replica's own path, key or not.
    expect((await riff.cli(["publish", "--input", "audit", "--data", "op"])).code).toBe(0);
    const source = `module.exports = async (x) => { const r = await fetch(process.env.RIFF_GATEWAY_URL + "/messages/audit", { method: "POST", body: "seen " + x }); return String(r.status); };\n`;
    expect((await deployNode(riff, "auditor", source, ["--input", "to-audit"])).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "to-audit", "--data", "1", "--reply"])).stdout).toBe("202\n");

    const id = (JSON.parse(listed.stdout) as { id: string }[])[0]?.id as string;
    expect((await riff.cli(["keys", "delete", id])).code).toBe(0);
    expect((await post(riff, "orders")).status).toBe(202);
  });
});
