import { describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN } from "./helpers/riff.js";
import { startSideChannel } from "./helpers/side-channel.js";

describe("durability", () => {
  it("every message answered 2xx survives kill -9 of the daemon and reaches the function", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    // The function holds every message until the gate is open, so none is handled (or
    // committed) before the kill, whatever the timing.
    const source = `module.exports = async (x) => {
  while (!(await fetch("${channel.url}/flags/open")).ok) await new Promise((r) => setTimeout(r, 5));
  await fetch("${channel.url}/lines/seen", { method: "POST", body: x });
  return x;
};
`;
    const d = await deployNode(riff, "recorder", source, ["--input", "events"]);
    expect(d.code).toBe(0);
    const n = 300;
    const sent = new Set<string>();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await fetch(`${riff.url}/messages/events`, { method: "POST", body: `m${i}` });
        expect(res.status).toBe(202);
        sent.add(`m${i}`);
      }),
    );
    riff.kill();
    expect(channel.lines("seen")).toEqual([]);
    await riff.restart();
    channel.setFlag("open");
    const seen = new Set(await channel.waitFor("seen", (lines) => [...sent].every((m) => lines.includes(m))));
    expect([...sent].filter((m) => !seen.has(m))).toEqual([]);
  });

  it("a message whose replica dies under it is delivered again; one that always kills it is dead-lettered", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    // Dies the first time it sees "once", and always on "poison". Whether it saw "once" is kept
    // outside riff: a replica's own files go with it.
    const source = `module.exports = async (x) => {
  if (x === "poison") process.exit(3);
  if (x === "once" && (await fetch("${channel.url}/flags/seen-once", { method: "POST" })).status === 201) process.exit(4);
  return "ok:" + x;
};
`;
    expect((await deployNode(riff, "fragile", source, ["--input", "fragile-in", "--output", "fragile-out"])).code).toBe(0);
    for (const body of ["a", "once", "poison", "b"]) {
      expect((await fetch(`${riff.url}/messages/fragile-in`, { method: "POST", body })).status).toBe(202);
    }
    const out = await tailN(riff.home, "fragile-out", 3);
    expect(out.map((m) => m.payload)).toEqual(["ok:a", "ok:once", "ok:b"]);
    const [dead] = await tailN(riff.home, "fragile-dead-letters", 1);
    expect(dead?.payload).toBe("poison");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("died while handling it, 3 times");
  });

  it("a message the function fails on goes to the dead-letter topic, unless a caller got the error", async () => {
    await using riff = await startRiff();
    const source = `module.exports = (x) => { if (x.startsWith("bad")) throw new Error("kaboom " + x); return x; };\n`;
    expect((await deployNode(riff, "picky", source, ["--input", "picky-in"])).code).toBe(0);
    const answered = await fetch(`${riff.url}/requests/picky-in`, { method: "POST", body: "bad-sync", headers: { "content-type": "text/plain" } });
    expect(answered.status).toBe(500);
    expect(await answered.text()).toContain("kaboom bad-sync");
    const queued = await fetch(`${riff.url}/messages/picky-in`, { method: "POST", body: "bad-async", headers: { "content-type": "text/plain" } });
    expect(queued.status).toBe(202);
    // The first dead letter is the second message: the caller who got the error took it.
    const [dead] = await tailN(riff.home, "picky-dead-letters", 1);
    expect(dead?.payload).toBe("bad-async");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("failed in the function: RIFF_FUNCTION_ERROR: kaboom bad-async");
    expect(dead?.headers["riff-dead-letter-source"]?.[0]).toMatch(/^picky-in\/0@1$/);
  });

  it("a failure further down a pipeline is dead-lettered, though the caller was answered earlier", async () => {
    await using riff = await startRiff();
    expect((await deployNode(riff, "p-first", "module.exports = (x) => 'via:' + x;\n", ["--input", "p-a", "--output", "p-b"])).code).toBe(0);
    expect((await deployNode(riff, "p-second", "module.exports = (x) => { throw new Error('second failed on ' + x); };\n", ["--input", "p-b"])).code).toBe(0);
    const res = await fetch(`${riff.url}/requests/p-a`, { method: "POST", body: "x", headers: { "content-type": "text/plain" } });
    expect(await res.text()).toBe("via:x");
    // The message carries the caller's correlation id on, but nobody waits for it any more.
    const [dead] = await tailN(riff.home, "p-second-dead-letters", 1);
    expect(dead?.payload).toBe("via:x");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("second failed on via:x");
  });

  it("stopping riff while a function works leaves the message for the next start, not the dead letters", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    // Notes each start of work, then never finishes: the stop has to kill the replica.
    const source = `module.exports = async () => { await fetch("${channel.url}/lines/started", { method: "POST", body: "start" }); return new Promise(() => {}); };\n`;
    expect((await deployNode(riff, "stuck", source, ["--input", "stuck-in"])).code).toBe(0);
    expect((await fetch(`${riff.url}/messages/stuck-in`, { method: "POST", body: "job" })).status).toBe(202);
    await channel.waitFor("started", (lines) => lines.length >= 1);
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    await riff.restart();
    // Delivered again after the restart...
    await channel.waitFor("started", (lines) => lines.length >= 2);
    // ...and never dead-lettered.
    const dlq = JSON.parse((await riff.cli(["topics", "describe", "stuck-dead-letters", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(dlq.offsets.map((o) => o.end)).toEqual([0]);
  });

  it("a message that runs over the function's timeout fails, and the partition moves on", async () => {
    await using riff = await startRiff();
    const source = "module.exports = (x) => (x.startsWith('hang') ? new Promise(() => {}) : 'ok:' + x);\n";
    expect((await deployNode(riff, "hangs", source, ["--input", "hangs-in", "--timeout", "500ms"])).code).toBe(0);
    const post = (path: string, body: string) => fetch(`${riff.url}${path}`, { method: "POST", body, headers: { "content-type": "text/plain" } });
    const stuck = await post("/requests/hangs-in", "hang-1");
    expect(stuck.status).toBe(504);
    const { error } = (await stuck.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("RIFF_FUNCTION_TIMEOUT");
    expect(error.message).toContain("did not finish the message within 500ms");
    // The same partition serves the next message: the stuck call did not hold it.
    expect(await (await post("/requests/hangs-in", "next")).text()).toBe("ok:next");
    // With no caller waiting, the timed-out message is dead-lettered.
    expect((await post("/messages/hangs-in", "hang-2")).status).toBe(202);
    const [dead] = await tailN(riff.home, "hangs-dead-letters", 1);
    expect(dead?.payload).toBe("hang-2");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("RIFF_FUNCTION_TIMEOUT");
    const logs = (await riff.cli(["logs", "-n", "hangs"])).stdout;
    expect(logs).toMatch(/ran over the timeout of 500ms: stopping the replica/);
  });

  it("a timeout counts from when a message can run, not while it waits behind its partition", async () => {
    await using riff = await startRiff();
    // Each message takes 200 ms; eight wait in the replica behind each other (order kept), so
    // the last waits far longer than the 2 s timeout before it runs.
    const source = "module.exports = async (x) => { await new Promise((r) => setTimeout(r, 200)); return 'done:' + x; };\n";
    expect((await deployNode(riff, "paced", source, ["--input", "paced-in", "--output", "paced-out", "--timeout", "2s", "--concurrency", "16"])).code).toBe(0);
    const sent = Array.from({ length: 16 }, (_, i) => `m${i}`);
    for (const body of sent) expect((await fetch(`${riff.url}/messages/paced-in`, { method: "POST", body, headers: { "content-type": "text/plain" } })).status).toBe(202);
    const out = await tailN(riff.home, "paced-out", sent.length);
    expect(out.map((m) => m.payload)).toEqual(sent.map((m) => `done:${m}`));
    const dlq = JSON.parse((await riff.cli(["topics", "describe", "paced-dead-letters", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(dlq.offsets.map((o) => o.end)).toEqual([0]);
  });

  it("a result too large for its output topic dead-letters the input instead of holding the partition", async () => {
    await using riff = await startRiff();
    const source = "module.exports = (x) => (x === 'big' ? 'y'.repeat(2 * 1024 * 1024) : 'ok:' + x);\n";
    expect((await deployNode(riff, "bloat", source, ["--input", "bloat-in", "--output", "bloat-out"])).code).toBe(0);
    for (const body of ["big", "next"]) expect((await fetch(`${riff.url}/messages/bloat-in`, { method: "POST", body, headers: { "content-type": "text/plain" } })).status).toBe(202);
    const [out] = await tailN(riff.home, "bloat-out", 1);
    expect(out?.payload).toBe("ok:next");
    const [dead] = await tailN(riff.home, "bloat-dead-letters", 1);
    expect(dead?.payload).toBe("big");
    expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("its result could not be written: RIFF_MESSAGE_TOO_LARGE");
  });

  it("a restart keeps deployed functions and topics", async () => {
    await using riff = await startRiff();
    const d = await deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers", "--output", "squares", "--partitions", "3"]);
    expect(d.code).toBe(0);
    expect((await riff.cli(["system", "stop"])).code).toBe(0);
    await riff.restart();
    const list = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; inputs: string[]; output: string }[];
    expect(list.map((f) => [f.name, f.inputs, f.output])).toEqual([["square", ["numbers"], "squares"]]);
    const topics = JSON.parse((await riff.cli(["topics", "list", "-o", "json"])).stdout) as { name: string; partitions: number }[];
    expect(topics.map((t) => [t.name, t.partitions]).sort()).toEqual([["numbers", 3], ["square-dead-letters", 1], ["squares", 3]]);
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "7", "--reply"])).stdout).toBe("49\n");
    // and after a crash too
    riff.kill();
    await riff.restart();
    expect((await riff.cli(["publish", "--input", "numbers", "--data", "8", "--reply"])).stdout).toBe("64\n");
  });
});
