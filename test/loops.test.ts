import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN } from "./helpers/riff.js";
import { startSideChannel } from "./helpers/side-channel.js";

// A function that publishes to its own input through the gateway, as a new user writes it:
// plain fetch or curl to $RIFF_GATEWAY_URL, none of riff's headers. Each replica's
// RIFF_GATEWAY_URL is a path of its own, so its publishes carry its hop count anyway.
describe("loops through the gateway without riff's headers", () => {
  it("stops a node function that posts to its own input with plain fetch at the hop limit", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    const source = `module.exports = async (x) => {
  await fetch("${channel.url}/lines/runs", { method: "POST", body: x });
  await fetch(process.env.RIFF_GATEWAY_URL + "/messages/selfish", { method: "POST", body: x, headers: { "content-type": "text/plain" } });
  return x;
};
`;
    expect((await deployNode(riff, "selfish", source, ["--input", "selfish"])).code).toBe(0);
    expect((await fetch(`${riff.url}/messages/selfish`, { method: "POST", body: "again" })).status).toBe(202);
    const [dead] = await tailN(riff.home, "selfish-dead-letters", 1);
    expect(dead?.headers["riff-dead-letter-function"]).toEqual(["selfish"]);
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("over the hop limit of 16");
    // It ran 16 times, once per hop, and the 17th was dead-lettered instead of run.
    expect(channel.lines("runs")).toHaveLength(16);
    expect((await riff.cli(["list"])).stdout).toMatch(/selfish\s+node\s+selfish\s+-\s+looping/);
  });

  it("stops a command function that posts to its own input with plain curl at the hop limit", async () => {
    await using riff = await startRiff();
    const dir = mkdtempSync(join(riff.work, "curl-"));
    writeFileSync(join(dir, "loop.sh"), '#!/bin/sh\ncurl -s -o /dev/null -X POST --data-binary @- "$RIFF_GATEWAY_URL/messages/curly"\necho sent\n', { mode: 0o755 });
    const d = await riff.cli(["create", "command", "--name", "curly", "--input", "curly", "--filepath", dir], dir);
    expect(d.code, d.stderr).toBe(0);
    expect((await fetch(`${riff.url}/messages/curly`, { method: "POST", body: "round" })).status).toBe(202);
    const [dead] = await tailN(riff.home, "curly-dead-letters", 1);
    expect(dead?.payload).toBe("round");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("over the hop limit of 16");
    const topic = JSON.parse((await riff.cli(["topics", "describe", "curly", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(topic.offsets.reduce((n, o) => n + o.end, 0)).toBe(17);
  });

  it("answers 404 to a replica path no running replica has", async () => {
    await using riff = await startRiff();
    const res = await fetch(`${riff.url}/r/not-a-replica/messages/anything`, { method: "POST", body: "x" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "RIFF_NOT_FOUND", message: "no running replica has this gateway path" });
  });
});
