import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { deploy } from "./invokers-shared.js";
import { waitFor } from "./helpers/cluster.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";
import { startSideChannel, type SideChannel } from "./helpers/side-channel.js";

/** `riff dead-letters list NAME -o json`. */
async function deadLetters(riff: RiffFixture, name: string): Promise<{ topic: string; deadLetters: { partition: number; offset: number; code: string; attempts: number; source: string }[] }> {
  const r = await riff.cli(["dead-letters", "list", name, "-o", "json"]);
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as Awaited<ReturnType<typeof deadLetters>>;
}

const post = (riff: RiffFixture, topic: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${riff.url}/messages/${topic}`, { method: "POST", body, headers: { "content-type": "text/plain", ...headers } });

/** A node function that notes each run of a message as a line `name` of `channel`, then does `then` (JS). */
const noting = (channel: SideChannel, name: string, then: string) => `module.exports = async (x) => { await fetch("${channel.url}/lines/${name}", { method: "POST", body: x }); ${then} };
`;

// The embedded log and NATS JetStream run the same runner, the same dead letters and the same
// admin API: the scenarios run on both.
describe.each(["embedded", "nats"])("retries and dead letters (%s broker)", (broker) => {
  let nats: TestNatsServer | undefined;
  beforeAll(async () => {
    if (broker === "nats") nats = await startTestNatsServer();
  });
  afterAll(async () => nats?.stop());
  const start = () => startRiff(nats === undefined ? [] : ["--broker", nats.url]);

  it("retries a failing message `retries` times, then dead-letters it to the function's own topic with every header", async () => {
    await using riff = await start();
    await using channel = await startSideChannel();
    expect((await deployNode(riff, "flaky", noting(channel, "runs", "throw new Error('down: ' + x);"), ["--input", "flaky-in", "--retries", "2"])).code).toBe(0);
    expect((await post(riff, "flaky-in", "order-7", { "x-order": "7", "x-riff-key": "k7" })).status).toBe(202);
    const [dead] = await tailN(riff.home, "flaky-dead-letters", 1);
    expect(channel.lines("runs")).toEqual(["order-7", "order-7", "order-7"]);
    expect(dead?.payload).toBe("order-7");
    const h = (name: string) => dead?.headers[name]?.[0];
    expect(h("x-order")).toBe("7");
    expect(h("content-type")).toContain("text/plain");
    expect(h("riff-dead-letter-code")).toBe("RIFF_FUNCTION_ERROR");
    expect(h("riff-dead-letter-reason")).toBe("failed in the function: RIFF_FUNCTION_ERROR: down: order-7");
    expect(h("riff-dead-letter-error-name")).toBe("Error");
    expect(h("riff-dead-letter-stack")).toMatch(/flaky\.js/);
    expect(h("riff-dead-letter-attempts")).toBe("3");
    expect(h("riff-dead-letter-function")).toBe("flaky");
    expect([h("riff-dead-letter-topic"), h("riff-dead-letter-partition"), h("riff-dead-letter-offset"), h("riff-dead-letter-source")]).toEqual(["flaky-in", "0", "0", "flaky-in/0@0"]);
    const first = Date.parse(h("riff-dead-letter-first-failure") ?? "");
    const last = Date.parse(h("riff-dead-letter-last-failure") ?? "");
    expect(first).toBeLessThan(last);
    // The shared topic holds nothing of it.
    const shared = JSON.parse((await riff.cli(["topics", "describe", "riff-dead-letters", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(shared.offsets.map((o) => o.end)).toEqual([0]);
    const listed = await deadLetters(riff, "flaky");
    expect(listed.topic).toBe("flaky-dead-letters");
    expect(listed.deadLetters.map((d) => [d.partition, d.offset, d.code, d.attempts, d.source])).toEqual([[0, 0, "RIFF_FUNCTION_ERROR", 3, "flaky-in/0@0"]]);
    const shown = JSON.parse((await riff.cli(["dead-letters", "show", "flaky", "0@0", "-o", "json"])).stdout) as { payload: string; key: string; headers: Record<string, string[]> };
    expect([shown.payload, shown.key, shown.headers["riff-dead-letter-attempts"]]).toEqual(["order-7", "k7", ["3"]]);
  });

  it("a key waiting out a retry holds its own later messages, not the other keys of its partition", async () => {
    await using riff = await start();
    await using channel = await startSideChannel();
    // Waits for the gate; fails "a1" once; notes every message it handled.
    const source = `module.exports = async (x) => {
  while (!(await fetch("${channel.url}/flags/gate")).ok) await new Promise((r) => setTimeout(r, 5));
  if (x === "a1" && (await fetch("${channel.url}/flags/failed-once", { method: "POST" })).status === 201) throw new Error("not yet");
  await fetch("${channel.url}/lines/done", { method: "POST", body: x });
};
`;
    expect((await deployNode(riff, "keyed", source, ["--input", "keyed-in", "--concurrency", "1", "--retries", "3"])).code).toBe(0);
    for (const [body, key] of [["a1", "A"], ["a2", "A"], ["b1", "B"]] as const) expect((await post(riff, "keyed-in", body, { "x-riff-key": key })).status).toBe(202);
    // All three are taken from the topic (one running, two waiting) before any runs.
    await waitFor("three messages in flight", async () => {
      const d = JSON.parse((await riff.cli(["describe", "function", "keyed", "-o", "json"])).stdout) as { inFlight: number };
      return d.inFlight === 3 ? true : undefined;
    }, { timeoutMs: 30_000 });
    channel.setFlag("gate");
    // b1 ran while a1 waited out its backoff; a2 waited for a1, its key's elder.
    expect(await channel.waitFor("done", (l) => l.length >= 3)).toEqual(["b1", "a1", "a2"]);
    expect((await deadLetters(riff, "keyed")).deadLetters).toEqual([]);
  });

  it("redrives the dead letters to their topic once `riff update` fixed the function, and they leave the list", async () => {
    await using riff = await start();
    const d = await deployNode(riff, "buggy", "module.exports = (x) => { throw new Error('bug on ' + x); };\n", ["--input", "buggy-in", "--output", "buggy-out", "--retries", "0"]);
    expect(d.code).toBe(0);
    for (const body of ["m1", "m2"]) expect((await post(riff, "buggy-in", body)).status).toBe(202);
    await tailN(riff.home, "buggy-dead-letters", 2);
    expect((await deadLetters(riff, "buggy")).deadLetters.map((l) => [l.source, l.attempts])).toEqual([["buggy-in/0@0", 1], ["buggy-in/0@1", 1]]);
    writeFileSync(join(d.dir, "buggy.js"), "module.exports = (x) => 'fixed:' + x;\n");
    expect((await riff.cli(["update", "-n", "buggy"])).code).toBe(0);
    const redrive = await riff.cli(["dead-letters", "redrive", "buggy"]);
    expect(redrive.stdout).toBe("redrove 2 dead letter(s) of function 'buggy': 2 to buggy-in\n");
    expect((await tailN(riff.home, "buggy-out", 2)).map((m) => m.payload)).toEqual(["fixed:m1", "fixed:m2"]);
    expect((await deadLetters(riff, "buggy")).deadLetters).toEqual([]);
    expect((await riff.cli(["dead-letters", "redrive", "buggy"])).stdout).toBe("redrove 0 dead letter(s) of function 'buggy'\n");
  });

  it("purges: list shows only what was dead-lettered after", async () => {
    await using riff = await start();
    expect((await deployNode(riff, "doomed", "module.exports = (x) => { throw new Error('no ' + x); };\n", ["--input", "doomed-in", "--retries", "0"])).code).toBe(0);
    for (const body of ["x1", "x2"]) expect((await post(riff, "doomed-in", body)).status).toBe(202);
    await tailN(riff.home, "doomed-dead-letters", 2);
    expect((await riff.cli(["dead-letters", "purge", "doomed"])).stdout).toBe("purged 2 dead letter(s) from topic doomed-dead-letters\n");
    expect((await deadLetters(riff, "doomed")).deadLetters).toEqual([]);
    expect((await post(riff, "doomed-in", "x3")).status).toBe(202);
    await tailN(riff.home, "doomed-dead-letters", 3);
    expect((await deadLetters(riff, "doomed")).deadLetters.map((l) => l.source)).toEqual(["doomed-in/0@2"]);
  });

  it("refuses to delete a dead-letter topic with 409 RIFF_TOPIC_PROTECTED: riff's ever, a function's while it exists", async () => {
    await using riff = await start();
    expect((await deployNode(riff, "guarded", "module.exports = (x) => x;\n", ["--input", "guarded-in", "--dead-letter", "guarded-failures"])).code).toBe(0);
    const del = (topic: string) => fetch(`${riff.url}/api/v1/topics/${topic}?force=true`, { method: "DELETE", headers: { authorization: `Bearer ${riff.token}` } });
    for (const topic of ["riff-dead-letters", "guarded-failures"]) {
      const res = await del(topic);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_TOPIC_PROTECTED");
    }
    const cli = await riff.cli(["topics", "delete", "guarded-failures"]);
    expect([cli.code, cli.stderr]).toEqual([1, expect.stringContaining("is the dead-letter topic of function 'guarded'")]);
    expect((await riff.cli(["delete", "guarded"])).code).toBe(0);
    expect((await del("guarded-failures")).status).toBe(200);
    expect((await del("riff-dead-letters")).status).toBe(409);
  });
});

describe("NonRetriableError skips the retries", () => {
  it("in node, python and command functions", async () => {
    await using riff = await startRiff();
    await using channel = await startSideChannel();
    const node = noting(channel, "node", "const { NonRetriableError } = await import('@riff/sdk'); throw new NonRetriableError('malformed ' + x);");
    const python = `import urllib.request
from riff_errors import NonRetriableError

def py(x):
    urllib.request.urlopen(urllib.request.Request("${channel.url}/lines/py", data=x.encode(), method="POST"))
    raise NonRetriableError("malformed " + x)
`;
    const command = `#!/bin/sh\ncat | curl -s -X POST --data-binary @- "${channel.url}/lines/cmd"\necho "malformed input" >&2\nexit 65\n`;
    const deployed = await Promise.all([
      deployNode(riff, "nodefn", node, ["--input", "nodefn-in", "--retries", "5"]),
      deploy(riff, "python3", "py", { "py.py": python }, ["--retries", "5"]),
      deploy(riff, "command", "cmd", { "cmd.sh": { text: command, mode: 0o755 } }, ["--retries", "5"]),
    ]);
    expect(deployed.map((d) => d.code)).toEqual([0, 0, 0]);
    for (const [fn, input] of [["nodefn", "nodefn-in"], ["py", "py-in"], ["cmd", "cmd-in"]] as const) {
      expect((await post(riff, input, "m")).status).toBe(202);
      const [dead] = await tailN(riff.home, `${fn}-dead-letters`, 1);
      expect([fn, dead?.headers["riff-dead-letter-error-name"]?.[0], dead?.headers["riff-dead-letter-attempts"]?.[0]]).toEqual([fn, "NonRetriableError", "1"]);
      expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain("malformed");
      expect(channel.lines(fn === "nodefn" ? "node" : fn)).toEqual(["m"]);
    }
  });

  it("in http functions: a non-2xx answer with Riff-Error-Name: NonRetriableError", async () => {
    await using riff = await startRiff();
    const invoker = "apiVersion: projectriff.io/v1alpha1\nkind: Invoker\nmetadata:\n  name: httpnode\nspec:\n  protocol: http\n  matchers: [\"*.cjs\"]\n  command: [node, \"{{artifact}}\"]\n";
    const dir = mkdtempSync(join(riff.work, "httpnode-"));
    writeFileSync(join(dir, "invoker.yaml"), invoker);
    expect((await riff.cli(["invokers", "apply", "-f", join(dir, "invoker.yaml")])).code).toBe(0);
    const server = (name: string) => `require("node:http").createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(422, ${name === "" ? "{}" : `{ "riff-error-name": "${name}" }`}); res.end("malformed"); }); }).listen(Number(process.env.PORT), "127.0.0.1");\n`;
    const deployed = await Promise.all([
      deploy(riff, "httpnode", "hnon", { "hnon.cjs": server("NonRetriableError") }, ["--retries", "2"]),
      deploy(riff, "httpnode", "hplain", { "hplain.cjs": server("") }, ["--retries", "2"]),
    ]);
    for (const d of deployed) expect(d.code, d.stderr).toBe(0);
    for (const [fn, name, attempts] of [["hnon", "NonRetriableError", "1"], ["hplain", undefined, "3"]] as const) {
      expect((await post(riff, `${fn}-in`, "m")).status).toBe(202);
      const [dead] = await tailN(riff.home, `${fn}-dead-letters`, 1);
      expect([fn, dead?.headers["riff-dead-letter-error-name"]?.[0], dead?.headers["riff-dead-letter-attempts"]?.[0]]).toEqual([fn, name, attempts]);
    }
  });

  it("in java functions: riff.NonRetriableError, or an exception of the function's own of that name; another exception is retried", async () => {
    await using riff = await startRiff();
    const java = (cls: string, body: string, extra = "") =>
      `import java.util.function.Function;\n${extra}\npublic class ${cls} implements Function<String, String> {\n  public String apply(String x) { ${body} }\n}\n`;
    const deployed = await Promise.all([
      deploy(riff, "java", "jriff", { "JRiff.java": java("JRiff", 'throw new riff.NonRetriableError("malformed " + x);') }, ["--retries", "2"]),
      deploy(riff, "java", "jown", { "JOwn.java": java("JOwn", 'throw new NonRetriableError("malformed " + x);', "class NonRetriableError extends RuntimeException { NonRetriableError(String m) { super(m); } }") }, ["--retries", "2"]),
      deploy(riff, "java", "jother", { "JOther.java": java("JOther", 'throw new IllegalStateException("broken " + x);') }, ["--retries", "2"]),
    ]);
    for (const d of deployed) expect(d.code, d.stderr).toBe(0);
    for (const [fn, name, attempts, reason] of [["jriff", "NonRetriableError", "1", "malformed m"], ["jown", "NonRetriableError", "1", "malformed m"], ["jother", "IllegalStateException", "3", "broken m"]] as const) {
      expect((await post(riff, `${fn}-in`, "m")).status).toBe(202);
      const [dead] = await tailN(riff.home, `${fn}-dead-letters`, 1);
      expect([fn, dead?.headers["riff-dead-letter-error-name"]?.[0], dead?.headers["riff-dead-letter-attempts"]?.[0]]).toEqual([fn, name, attempts]);
      expect(dead?.headers["riff-dead-letter-reason"]?.[0]).toContain(reason);
    }
  });
});
