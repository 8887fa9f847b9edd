import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

// Every answer of the gateway, against a real daemon and real Node replicas.
describe("the gateway", () => {
  let riff: RiffFixture;

  beforeAll(async () => {
    riff = await startRiff();
    const deploys = await Promise.all([
      deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]),
      deployNode(riff, "boom", "module.exports = () => { throw new Error('kaboom') }\n", ["--input", "boom-in"]),
      deployNode(riff, "never", "module.exports = () => new Promise(() => {})\n", ["--input", "never-in"]),
      deployNode(riff, "echo", "module.exports = (x) => x\n", ["--input", "echo-in"]),
      deployNode(riff, "shape", "module.exports = (x) => ({ type: typeof x, isBuffer: Buffer.isBuffer(x), value: Buffer.isBuffer(x) ? x.length : x })\n", ["--input", "shape-in"]),
      deployNode(riff, "double", "export default async (x) => Number(x) * 2\n", ["--input", "double-in", "--output", "doubled"]),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${riff.url}${path}`, { method: "POST", body, headers });

  it("/messages answers 202 with the position", async () => {
    const res = await post("/messages/numbers", "3");
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ topic: "numbers", partition: 0, offset: expect.any(Number) });
  });

  it("/requests answers 200 with the reply body and its content type", async () => {
    const res = await post("/requests/numbers", "12");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe("144");
  });

  it("unknown topic: 404", async () => {
    const res = await post("/messages/nope", "1");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "RIFF_TOPIC_NOT_FOUND", message: "topic 'nope' does not exist" } });
    expect((await post("/requests/nope", "1")).status).toBe(404);
  });

  it("other methods: 405", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const res = await fetch(`${riff.url}/messages/numbers`, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_METHOD_NOT_ALLOWED");
    }
  });

  it("a body over 1 MiB: 413", async () => {
    const res = await post("/messages/numbers", new Uint8Array(1024 * 1024 + 1));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_MESSAGE_TOO_LARGE");
    expect((await post("/messages/numbers", new Uint8Array(1024 * 1024))).status).toBe(202);
  });

  it("no reply in time: 504, with the timeout set per request", async () => {
    const res = await post("/requests/never-in", "x", { "x-riff-timeout": "300ms" });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_REPLY_TIMEOUT");
  });

  it("/requests to a topic no function reads: 409 at once, and nothing is stored", async () => {
    expect((await riff.cli(["topics", "create", "lonely"])).code).toBe(0);
    const res = await post("/requests/lonely", "x");
    expect(res.status).toBe(409);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("RIFF_NO_READER");
    expect(error.message).toContain("no function reads topic 'lonely'");
    const cli = await riff.cli(["publish", "--input", "lonely", "--data", "x", "--reply"]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("no function reads topic 'lonely'");
    expect((await post("/messages/lonely", "kept")).status).toBe(202);
    const described = JSON.parse((await riff.cli(["topics", "describe", "lonely", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(described.offsets[0]?.end).toBe(1);
  });

  it("riff publish --reply past its --timeout says to wait longer with --timeout", async () => {
    const r = await riff.cli(["publish", "--input", "never-in", "--data", "x", "--reply", "--timeout", "300ms"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no reply within 300 ms");
    expect(r.stderr).toContain("--timeout");
    expect(r.stderr).not.toContain("X-Riff-Timeout");
  });

  it("only riff writes to the dead-letter topic: a POST there is a 400", async () => {
    const res = await post("/messages/riff-dead-letters", "forged");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("only riff writes dead letters");
  });

  it("a bad X-Riff-Timeout: 400 naming the header", async () => {
    const res = await post("/requests/numbers", "1", { "x-riff-timeout": "soon" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("X-Riff-Timeout");
  });

  it("the function threw: 500 with {error: {code, message}}, and the replica keeps serving", async () => {
    const res = await post("/requests/boom-in", "x");
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({ code: "RIFF_FUNCTION_ERROR", message: "kaboom" });
    expect((await post("/requests/boom-in", "y")).status).toBe(500);
    const list = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; replicas: { handled: number }[] }[];
    expect(list.find((f) => f.name === "boom")?.replicas).toHaveLength(1);
  });

  it("content types: text gives a string, JSON a value, octet-stream a Buffer", async () => {
    const text = await (await post("/requests/shape-in", "hi")).json();
    expect(text).toEqual({ type: "string", isBuffer: false, value: "hi" });
    const json = await (await post("/requests/shape-in", '{"a":1}', { "content-type": "application/json" })).json();
    expect(json).toEqual({ type: "object", isBuffer: false, value: { a: 1 } });
    const bytes = await (await post("/requests/shape-in", new Uint8Array([1, 2, 3]), { "content-type": "application/octet-stream" })).json();
    expect(bytes).toEqual({ type: "object", isBuffer: true, value: 3 });
  });

  it("Accept picks the reply encoding; its default is the request's type", async () => {
    const asJson = await post("/requests/echo-in", '{"k":"v"}', { "content-type": "application/json" });
    expect(asJson.headers.get("content-type")).toBe("application/json");
    expect(await asJson.json()).toEqual({ k: "v" });
    const asText = await post("/requests/echo-in", '"v"', { "content-type": "application/json", accept: "text/plain" });
    expect(asText.headers.get("content-type")).toBe("text/plain");
    expect(await asText.text()).toBe("v");
  });

  it("a function with an output topic still answers /requests, and the output topic gets the result", async () => {
    const res = await post("/requests/double-in", "21");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("42");
    const t = JSON.parse((await riff.cli(["topics", "describe", "doubled", "-o", "json"])).stdout) as { offsets: { end: number }[] };
    expect(t.offsets[0]?.end).toBeGreaterThanOrEqual(1);
  });

  it("the admin API wants the token", async () => {
    const res = await fetch(`${riff.url}/api/v1/functions`);
    expect(res.status).toBe(401);
    const ok = await fetch(`${riff.url}/api/v1/functions`, { headers: { authorization: `Bearer ${riff.token}` } });
    expect(ok.status).toBe(200);
  });

  it("a malformed topic in the URL is a 400, and the daemon keeps running", async () => {
    const res = await post("/messages/%E0%A4%A", "1");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_INVALID_ARGUMENT");
    expect((await fetch(`${riff.url}/healthz`)).status).toBe(200);
  });

  it("/healthz answers without a token", async () => {
    expect((await fetch(`${riff.url}/healthz`)).status).toBe(200);
  });
});
