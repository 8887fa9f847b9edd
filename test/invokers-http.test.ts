import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HttpReplica, type LogLine } from "@riff/runtime";

// HttpReplica, the replica kind for user-defined invokers that speak HTTP on a port riff
// assigns, with a real Node HTTP server as the function process.
const SERVER = `
const http = require("node:http");
console.log("listening on " + process.env.PORT);
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString();
    if (body === "fail") { res.writeHead(422, { "content-type": "text/plain" }); res.end("cannot take fail"); return; }
    if (body === "malformed") { res.writeHead(422, { "riff-error-name": "NonRetriableError" }); res.end("never"); return; }
    res.writeHead(200, { "content-type": "application/json", "x-seen-trace": req.headers["traceparent"] ?? "none" });
    res.end(JSON.stringify({ upper: body.toUpperCase(), type: req.headers["content-type"] }));
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

describe("HttpReplica", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function replicaOf(source: string, logs: LogLine[] = []): HttpReplica {
    const dir = mkdtempSync(join(tmpdir(), "riff-http-"));
    writeFileSync(join(dir, "server.cjs"), source);
    const replica = new HttpReplica({
      id: "http-1",
      launch: { command: process.execPath, args: ["server.cjs"], env: { PATH: process.env["PATH"] ?? "" }, cwd: dir },
      onLog: (line) => logs.push(line),
    });
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanup.push(() => replica.stop(5000));
    return replica;
  }

  it("starts the process with PORT, is ready once the port accepts, and POSTs each message with its headers", async () => {
    const logs: LogLine[] = [];
    const replica = replicaOf(SERVER, logs);
    await replica.start();
    expect(replica.state).toBe("ready");
    expect(logs).toContainEqual({ replica: "http-1", stream: "stdout", line: `listening on ${replica.port}` });
    const results = await Promise.all(
      ["a", "b", "c"].map((x) => replica.invoke({ "content-type": ["text/plain"], traceparent: ["00-abc-01"] }, Buffer.from(x))),
    );
    for (const [i, r] of results.entries()) {
      expect(r.headers["content-type"]).toEqual(["application/json"]);
      expect(r.headers["x-seen-trace"]).toEqual(["00-abc-01"]);
      expect(r.headers["date"]).toBeUndefined();
      expect(JSON.parse(Buffer.from(r.payload).toString())).toEqual({ upper: ["A", "B", "C"][i], type: "text/plain" });
    }
    expect(replica.handled).toBe(3);
  });

  it("a non-2xx answer is an error reply with the status and the body", async () => {
    const replica = replicaOf(SERVER);
    await replica.start();
    await expect(replica.invoke({}, Buffer.from("fail"))).rejects.toMatchObject({
      code: "RIFF_FUNCTION_ERROR",
      message: "the function answered HTTP 422: cannot take fail",
    });
    // The error's class, from Riff-Error-Name, as an ERROR frame's name: NonRetriableError skips the retries.
    await expect(replica.invoke({}, Buffer.from("malformed"))).rejects.toMatchObject({ details: { status: 422, name: "NonRetriableError" } });
    expect(Buffer.from((await replica.invoke({}, Buffer.from("ok"))).payload).toString()).toContain("OK");
  });

  it("a process that exits before it listens fails start() with its stderr", async () => {
    const replica = replicaOf('console.error("missing config: DATABASE_URL"); process.exit(2);');
    await expect(replica.start()).rejects.toMatchObject({
      code: "RIFF_FUNCTION_STARTUP_FAILED",
      message: expect.stringMatching(/exited \(exit code 2\) before it listened on port \d+:\nmissing config: DATABASE_URL/),
    });
    expect(replica.state).toBe("failed");
  });

  it("stop() lets the process go with SIGTERM and resolves once it exited", async () => {
    const replica = replicaOf(SERVER);
    await replica.start();
    await replica.stop(5000);
    expect(replica.state).toBe("stopped");
    expect(await replica.exited).toBe("SIGTERM");
  });
});
