import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { httpRequest, rawRequest } from "./helpers/raw-http.js";
import { cli, startRiff, type RiffFixture } from "./helpers/riff.js";

const STACK = /\n\s+at .+:\d+:\d+/;
const API = "projectriff.io/v1alpha1";

/** One hostile input and the answer it must get: an HTTP status or a CLI exit code, and a code. */
interface Case {
  name: string;
  send: () => Promise<{ status: number; text: string }>;
  status: number;
  code: string;
  /** Text the answer must contain: the field, header or flag at fault. */
  names?: string;
}

// A catalogue of hostile inputs against one real daemon: every one gets a clear answer with a
// stable code, none reaches "bug in riff", and the daemon still serves after all of them.
describe("hostile input", () => {
  let riff: RiffFixture;
  // Made while the table is built: its entries name files in it.
  const yamlDir = mkdtempSync(join(tmpdir(), "riff-hostile-"));

  beforeAll(async () => {
    // Short header timeout: the slowloris case waits for it (the answer, not a clock, ends the wait).
    riff = await startRiff(["--headers-timeout", "1s"]);
    const square = await deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]);
    expect(square.code, square.stderr).toBe(0);
  });
  afterAll(async () => {
    await riff[Symbol.asyncDispose]();
    rmSync(yamlDir, { recursive: true, force: true });
  });

  const answer = async (res: Response) => ({ status: res.status, text: await res.text() });
  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) => async () =>
    answer(await fetch(`${riff.url}${path}`, { method: "POST", body, headers }));
  const call = (method: string, path: string, headers: Record<string, string> = {}) => async () => answer(await fetch(`${riff.url}${path}`, { method, headers }));
  const admin = (method: string, path: string, body?: string) => async () =>
    answer(await fetch(`${riff.url}/api/v1/${path}`, { method, headers: { authorization: `Bearer ${riff.token}` }, ...(body === undefined ? {} : { body }) }));
  const raw = (bytes: string | (() => string)) => async () => rawRequest(riff.url, typeof bytes === "string" ? bytes : bytes());
  const hostIs = (host: string) => raw(() => httpRequest("GET", "/api/v1/status", { host, authorization: `Bearer ${riff.token}` }));
  const run = (args: string[]) => async () => {
    const r = await riff.cli(args, yamlDir);
    return { status: r.code, text: r.stderr };
  };
  const startIn = (args: string[]) => async () => {
    const home = mkdtempSync(join(tmpdir(), "riff-hostile-home-"));
    try {
      const r = await cli(home, ["system", "start", ...args]);
      return { status: r.code, text: r.stderr };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  };
  /** `riff apply -f` of one YAML file. */
  const applyFile = (name: string, text: string) => async () => {
    writeFileSync(join(yamlDir, name), text);
    return run(["apply", "-f", join(yamlDir, name)])();
  };
  /** The same YAML straight to the admin API, as the CLI would send it. */
  const applyApi = (text: string) => admin("POST", "apply", JSON.stringify({ documents: [{ file: join(yamlDir, "api.yaml"), text }] }));

  const topic = (name: string, extra = "") => `apiVersion: ${API}\nkind: Topic\nmetadata:\n  name: ${name}\nspec:\n  partitions: 1\n${extra}`;
  const laughs = `apiVersion: ${API}\nkind: Topic\nmetadata: {name: lol}\nspec:\n  a: &a [x, x, x, x, x, x, x, x, x]\n${["b", "c", "d", "e", "f", "g"]
    .map((k, i) => `  ${k}: &${k} [${Array(9).fill(`*${"abcdefg"[i] ?? "a"}`).join(", ")}]`)
    .join("\n")}\n`;
  const duplicate = `${topic("twice")}---\n${topic("twice").replace("partitions: 1", "partitions: 4")}`;
  const hops = (value: string) => post("/messages/numbers", "1", { "x-riff-hops": value });
  /** A node Function document reading `input`, with extra lines under spec. */
  const fn = (name: string, input: string, spec: string) => `apiVersion: ${API}\nkind: Function\nmetadata:\n  name: ${name}\nspec:\n  invoker: node\n  input: ${input}\n${spec}`;
  writeFileSync(join(yamlDir, "square.js"), "module.exports = (x) => x ** 2\n");

  const cases: Case[] = [
    // X-Riff-Hops: the loop guard cannot be widened from outside.
    ...["-10", "-1", "1.5", "abc", "", "1e3", "0x10", "+1", "NaN", "Infinity", "-0", "9999999999", "1 2"].map((v) => ({
      name: `X-Riff-Hops: '${v}'`, send: hops(v), status: 400, code: "RIFF_INVALID_HEADER", names: "X-Riff-Hops",
    })),
    { name: "X-Riff-Hops twice", send: raw(httpRequest("POST", "/messages/numbers", { host: "localhost", "x-riff-hops": "1", "X-Riff-Hops": "-5" }, "1")), status: 400, code: "RIFF_INVALID_HEADER", names: "X-Riff-Hops" },
    { name: "X-Riff-Hops on /requests", send: post("/requests/numbers", "2", { "x-riff-hops": "-100" }), status: 400, code: "RIFF_INVALID_HEADER" },
    // Other headers, methods, paths and bodies of the gateway.
    ...["abc", "-1s", "0", "99d"].map((v) => ({ name: `X-Riff-Timeout: '${v}'`, send: post("/requests/numbers", "2", { "x-riff-timeout": v }), status: 400, code: "RIFF_INVALID_ARGUMENT", names: "X-Riff-Timeout" })),
    ...["GET", "PUT", "DELETE", "PATCH", "OPTIONS"].map((m) => ({ name: `${m} /messages/numbers`, send: call(m, "/messages/numbers"), status: 405, code: "RIFF_METHOD_NOT_ALLOWED" })),
    { name: "bad percent-encoding in a topic", send: post("/messages/%E0%A4%A", "1"), status: 400, code: "RIFF_INVALID_ARGUMENT" },
    { name: "unknown topic", send: post("/messages/no-such-topic", "1"), status: 404, code: "RIFF_TOPIC_NOT_FOUND" },
    { name: "a topic that is no valid name", send: post("/requests/BAD%2F..%2Fx", "1"), status: 400, code: "RIFF_INVALID_NAME", names: "'BAD/../x'" },
    { name: "no topic in the path", send: post("/messages/", "1"), status: 400, code: "RIFF_INVALID_NAME", names: "POST /messages/TOPIC" },
    { name: "posting to the dead letters", send: post("/messages/riff-dead-letters", "1"), status: 400, code: "RIFF_INVALID_ARGUMENT" },
    { name: "unknown path", send: call("GET", "/../../etc/passwd"), status: 404, code: "RIFF_NOT_FOUND" },
    { name: "a body over 1 MiB", send: post("/messages/numbers", new Uint8Array(1024 * 1024 + 1)), status: 413, code: "RIFF_MESSAGE_TOO_LARGE" },
    { name: "an Accept no invoker gives", send: post("/requests/numbers", "2", { accept: "image/png" }), status: 406, code: "RIFF_ACCEPT_UNSUPPORTED" },
    // Malformed HTTP, written on the socket as no client would.
    { name: "a garbage request line", send: raw("GARBAGE\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "an invalid method", send: raw("P{ST /messages/numbers HTTP/1.1\r\nhost: x\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "an unknown HTTP version", send: raw("POST /messages/numbers HTTP/7.0\r\nhost: x\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "a header line without a colon", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\nno colon here\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "a NUL in a header value", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\nx-a: b\0c\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "Content-Length: abc", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "two different Content-Lengths", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n12"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "a body cut short", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "a broken chunked body", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"), status: 400, code: "RIFF_BAD_REQUEST" },
    { name: "headers over 16 KiB", send: raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(17 * 1024)}\r\n\r\n`), status: 431, code: "RIFF_HEADERS_TOO_LARGE" },
    { name: "HTTP/1.1 without Host", send: raw("POST /messages/numbers HTTP/1.1\r\ncontent-length: 1\r\n\r\n1"), status: 400, code: "RIFF_BAD_REQUEST", names: "Host" },
    { name: "headers that never end (slowloris)", send: raw("POST /messages/numbers HTTP/1.1\r\nhost: x\r\nx-slow: 1\r\n"), status: 408, code: "RIFF_REQUEST_TIMEOUT" },
    // The admin API's Host check (DNS rebinding).
    ...["evil.example", "evil.example:8080", "localhost.evil.example", "127.0.0.1.nip.io", "[::2]"].map((h) => ({
      name: `admin API with Host: ${h}`, send: hostIs(h), status: 403, code: "RIFF_HOST_NOT_ALLOWED",
    })),
    // The admin API's bodies, paths and queries.
    ...["null", "[]", "42", '"documents"', "true"].map((b) => ({ name: `apply with body ${b}`, send: admin("POST", "apply", b), status: 400, code: "RIFF_INVALID_ARGUMENT", names: "body" })),
    { name: "apply with a body that is not JSON", send: admin("POST", "apply", "{"), status: 400, code: "RIFF_INVALID_ARGUMENT" },
    ...(
      [
        ['{"documents":null}', "body.documents"],
        ['{"documents":{}}', "body.documents"],
        ['{"documents":[null]}', "body.documents[0]"],
        ['{"documents":[42]}', "body.documents[0]"],
        ['{"documents":[{"file":1,"text":"x"}]}', "body.documents[0].file"],
        ['{"documents":[{"file":"/x.yaml"}]}', "body.documents[0].text"],
        ['{"documents":[],"dryRun":"yes"}', "body.dryRun"],
      ] as const
    ).map(([b, field]) => ({ name: `apply with ${b}`, send: admin("POST", "apply", b), status: 400, code: "RIFF_INVALID_ARGUMENT", names: field })),
    ...(
      [
        ["null", "body"],
        ['{"name":"t","partitions":"3"}', "body.partitions"],
        ['{"name":"t","partitions":-1}', "body.partitions"],
        ['{"name":"t","retentionMs":1.5}', "body.retentionMs"],
        ['{"name":"t","durability":"never"}', "body.durability"],
      ] as const
    ).map(([b, field]) => ({ name: `topics with ${b}`, send: admin("POST", "topics", b), status: 400, code: "RIFF_INVALID_ARGUMENT", names: field })),
    { name: "a topic named null", send: admin("POST", "topics", '{"name":null}'), status: 400, code: "RIFF_INVALID_NAME" },
    { name: "tail with ?count=abc", send: admin("GET", "topics/numbers/messages?count=abc"), status: 400, code: "RIFF_INVALID_ARGUMENT", names: "count" },
    { name: "logs with ?tail=-1", send: admin("GET", "functions/square/logs?tail=-1"), status: 400, code: "RIFF_INVALID_ARGUMENT", names: "tail" },
    { name: "bad percent-encoding in an admin path", send: admin("GET", "functions/%E0%A4%A"), status: 400, code: "RIFF_INVALID_ARGUMENT" },
    { name: "PUT on an admin endpoint", send: admin("PUT", "topics"), status: 405, code: "RIFF_METHOD_NOT_ALLOWED" },
    { name: "admin API without the token", send: call("GET", "/api/v1/status"), status: 401, code: "RIFF_UNAUTHORIZED" },
    { name: "admin API with a wrong token", send: call("GET", "/api/v1/status", { authorization: "Bearer nope" }), status: 401, code: "RIFF_UNAUTHORIZED" },
    // YAML, to the admin API and through `riff apply -f`.
    { name: "a billion laughs, to the API", send: applyApi(laughs), status: 400, code: "RIFF_INVALID_RESOURCE", names: "aliases" },
    { name: "a billion laughs, with riff apply", send: applyFile("laughs.yaml", laughs), status: 1, code: "RIFF_INVALID_RESOURCE", names: "laughs.yaml" },
    { name: "one name twice, to the API", send: applyApi(duplicate), status: 400, code: "RIFF_DUPLICATE_RESOURCE", names: "(document 2)" },
    { name: "one name twice, with riff apply", send: applyFile("twice.yaml", duplicate), status: 1, code: "RIFF_DUPLICATE_RESOURCE", names: "twice.yaml:1 (document 1)" },
    { name: "YAML syntax error", send: applyApi("kind: [Topic\n"), status: 400, code: "RIFF_INVALID_RESOURCE" },
    { name: "a YAML scalar", send: applyApi("42\n"), status: 400, code: "RIFF_INVALID_RESOURCE" },
    { name: "a YAML list of nulls", send: applyApi("- null\n- ~\n"), status: 400, code: "RIFF_INVALID_RESOURCE" },
    { name: "a custom YAML tag", send: applyApi(`${topic("tagged")}  partitions: !!js/function "() => 1"\n`), status: 400, code: "RIFF_INVALID_RESOURCE" },
    { name: "__proto__ in a resource", send: applyApi(`${topic("proto")}  __proto__: {polluted: true}\n`), status: 400, code: "RIFF_INVALID_RESOURCE" },
    { name: "binary bytes as YAML", send: applyFile("binary.yaml", "\u0000\u0001\u0002\uffff"), status: 1, code: "RIFF_INVALID_RESOURCE" },
    // spec.env may not name what riff sets for every replica: it would be dropped without a word.
    ...["PATH", "HOME", "RIFF_FUNCTION_NAME"].map((key) => ({
      name: `spec.env.${key}`, send: applyFile(`env-${key}.yaml`, fn("envy", "envy-in", `  artifact: square.js\n  env:\n    ${key}: x\n`)), status: 1, code: "RIFF_INVALID_RESOURCE", names: `spec.env.${key}`,
    })),
    // An artifact in riff's home (its token, secrets, data), or one that holds it.
    { name: "spec.artifact in riff's home", send: () => applyFile("in-home.yaml", fn("thief", "thief-in", `  artifact: ${join(riff.home, "token")}\n`))(), status: 1, code: "RIFF_INVALID_RESOURCE", names: "spec.artifact" },
    { name: "spec.artifact holding riff's home", send: () => applyFile("holds-home.yaml", fn("thief", "thief-in", "  artifact: /\n"))(), status: 1, code: "RIFF_INVALID_RESOURCE", names: "spec.artifact" },
    // CLI flags.
    ...(
      [
        [["--port", "99999"], "--port 99999"],
        [["--port", "abc"], "--port abc"],
        [["--port", "80.5"], "--port 80.5"],
        [["--headers-timeout", "soon"], "--headers-timeout"],
        [["--request-timeout", "10"], "--request-timeout 10"],
        [["--max-connections", "0"], "--max-connections 0"],
        [["--max-hops", "-3"], "--max-hops"],
        [["--pool-size", "x"], "--pool-size x"],
        [["--host", "203.0.113.7"], "--host 203.0.113.7"],
      ] as const
    ).map(([args, flag]) => ({ name: `riff system start ${args.join(" ")}`, send: startIn([...args]), status: 1, code: "RIFF_INVALID_ARGUMENT", names: flag })),
    ...(
      [
        [["create", "node", "--name", "x", "--input", "numbers", "--idle-timeout", "forever"], "--idle-timeout"],
        [["create", "node", "--name", "x", "--input", "numbers", "--timeout", "10"], "--timeout 10"],
        [["create", "node", "--name", "x", "--input", "numbers", "--partitions", "1.5"], "--partitions 1.5"],
        [["publish", "--input", "numbers", "--data", "1", "--count", "0"], "--count 0"],
        [["publish", "--input", "numbers", "--data", "1", "--reply", "--timeout", "30d"], "--timeout 30d"],
        [["publish", "--input", "numbers", "--data", "1", "--header", "bad name:x"], "--header"],
        [["topics", "create", "t", "--partitions", "abc"], "--partitions abc"],
        [["topics", "create", "t", "--retention", "10"], "--retention 10"],
        [["topics", "tail", "numbers", "--count", "-5"], "--count"],
        [["logs", "-n", "square", "--tail", "lots"], "--tail lots"],
        // Checked in the YAML riff create would write, and said of the flag, not of that file.
        [["create", "node", "--name", "x", "--input", "numbers", "--memory", "lots"], "--memory lots:"],
        [["create", "node", "--name", "x", "--input", "numbers", "--cpu", "abc"], "--cpu abc:"],
        [["topics", "create", "t", "--durability", "maybe"], "--durability"],
        [["topics", "create", "t", "--replicas", "2"], "--replicas"],
      ] as const
    ).map(([args, flag]) => ({ name: `riff ${args.join(" ")}`, send: run([...args]), status: 1, code: "RIFF_INVALID_ARGUMENT", names: flag })),
    { name: "riff create --dry-run of an invoker the daemon does not know", send: run(["create", "cobol", "--name", "x", "--input", "numbers", "--dry-run"]), status: 1, code: "RIFF_INVOKER_NOT_FOUND", names: "cobol" },
    { name: "riff create --artifact of a file that is not there", send: run(["create", "node", "--name", "x", "--input", "numbers", "--artifact", "nothere.js", "--dry-run"]), status: 1, code: "RIFF_ARTIFACT_NOT_FOUND", names: "--artifact nothere.js" },
    { name: "riff publish with X-Riff-Hops: -10", send: run(["publish", "--input", "numbers", "--data", "1", "--header", "x-riff-hops:-10"]), status: 1, code: "RIFF_INVALID_HEADER", names: "X-Riff-Hops" },
  ];

  it("has a catalogue of at least 60 hostile inputs", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)("$name: $status $code", async ({ send, status, code, names }) => {
    const got = await send();
    expect(got.status, got.text).toBe(status);
    expect(got.text).not.toMatch(STACK);
    expect(got.text).not.toMatch(/bug in riff|RIFF_INTERNAL/);
    if (status >= 100) {
      const body = JSON.parse(got.text) as { error: { code: string; message: string } };
      expect(body.error.code, got.text).toBe(code);
    } else {
      expect(got.text).toContain(`(${code})`);
    }
    if (names !== undefined) expect(got.text).toContain(names);
  });

  it("a token file others may read is refused by the CLI and the daemon, naming the chmod to run", async () => {
    const token = join(riff.home, "token");
    chmodSync(token, 0o644);
    try {
      const r = await riff.cli(["list"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`chmod 600 ${token}`);
      expect(r.stderr).toContain("(RIFF_TOKEN_UNSAFE)");
    } finally {
      chmodSync(token, 0o600);
    }
    const home = mkdtempSync(join(tmpdir(), "riff-hostile-home-"));
    try {
      mkdirSync(home, { recursive: true });
      writeFileSync(join(home, "token"), "open-secret\n", { mode: 0o644 });
      chmodSync(join(home, "token"), 0o644);
      const r = await cli(home, ["system", "start", "--port", "0"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`chmod 600 ${join(home, "token")}`);
      expect(r.stderr).not.toMatch(STACK);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("the admin API answers loopback names and addresses as Host", async () => {
    const { port } = new URL(riff.url);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "LOCALHOST", "app.localhost"]) {
      const got = await hostIs(host)();
      expect(got.status, `${host}: ${got.text}`).toBe(200);
    }
  });

  it("a function file of the user's at the top of riff's home is taken; riff's own files there are not", async () => {
    writeFileSync(join(riff.home, "mine.js"), "module.exports = (x) => x + 1\n");
    const ok = await applyFile("mine.yaml", fn("mine", "mine-in", `  artifact: ${join(riff.home, "mine.js")}\n`))();
    expect(ok.status, ok.text).toBe(0);
    const daemonLog = await applyFile("log.yaml", fn("thief", "thief-in", `  artifact: ${join(riff.home, "daemon.log")}\n`))();
    expect(daemonLog.status).toBe(1);
    expect(daemonLog.text).toContain("is inside riff's home");
    expect((await riff.cli(["delete", "--all", "mine"])).code).toBe(0);
  });

  it("an apply whose code cannot be prepared makes none of its topics", async () => {
    writeFileSync(join(yamlDir, "not-a-script.txt"), "echo hi\n");
    const doc = `apiVersion: ${API}\nkind: Function\nmetadata:\n  name: noexec\nspec:\n  invoker: command\n  input: noexec-in\n  artifact: not-a-script.txt\n`;
    const r = await applyFile("noexec.yaml", doc)();
    expect(r.status, r.text).toBe(1);
    expect(r.text).toContain("is not executable and has no #! line");
    const topics = await riff.cli(["topics", "list"]);
    expect(topics.code, topics.stderr).toBe(0);
    expect(topics.stdout).not.toContain("noexec-in");
    expect(topics.stdout).not.toContain("noexec-dead-letters");
  });

  it("after all of it, the daemon still serves", async () => {
    const res = await fetch(`${riff.url}/requests/numbers`, { method: "POST", body: "7" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("49");
    const list = await riff.cli(["list"]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/square\s+node\s+numbers/);
    // Nothing of it was taken for riff's own failure: no error in the daemon's log.
    const errors = readFileSync(join(riff.home, "daemon.log"), "utf8").split("\n").filter((l) => l.includes('"level":"error"'));
    expect(errors).toEqual([]);
  });
});
