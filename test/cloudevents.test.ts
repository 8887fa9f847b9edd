import { CloudEvent, HTTP } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPEC_BINARY_DATA, SPEC_BINARY_HEADERS, SPEC_STRING_DATA, SPEC_STRING_DATA_HEADERS } from "../packages/protocol/src/cloudevents-examples.test-util.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";

/** A function that answers with the CloudEvents attributes (and trace and type) it was given. */
const SEEN = `const fn = (m) => {
  const seen = {};
  for (const [k, v] of Object.entries(m.headers)) if (k.startsWith("ce-") || k === "content-type" || k === "traceparent") seen[k] = v[0];
  return { seen, data: m.payload };
};
fn.$argumentType = "message";
module.exports = fn;
`;

interface Seen {
  seen: Record<string, string>;
  data: unknown;
}

// CloudEvents 1.0 over HTTP, against a real daemon and real Node replicas: the spec's
// examples in each mode, invalid events, and the attributes' way through functions and back.
describe("CloudEvents over HTTP", () => {
  let riff: RiffFixture;

  beforeAll(async () => {
    riff = await startRiff();
    const created = await Promise.all([
      riff.cli(["topics", "create", "ce-log"]),
      riff.cli(["topics", "create", "ce-keyed", "--partitions", "4"]),
      deployNode(riff, "seen", SEEN, ["--input", "seen-in"]),
      deployNode(riff, "echo", "module.exports = (x) => x\n", ["--input", "echo-in"]),
      deployNode(riff, "first", "module.exports = (x) => x\n", ["--input", "pipe-in", "--output", "pipe-mid"]),
      deployNode(riff, "second", SEEN, ["--input", "pipe-mid", "--output", "pipe-out"]),
    ]);
    for (const c of created) expect(c.code, c.stderr).toBe(0);
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) => fetch(`${riff.url}${path}`, { method: "POST", body, headers });
  /** Every message of topic `ce-log` published so far, via `riff topics tail`. */
  const logEnd = async () => (JSON.parse((await riff.cli(["topics", "describe", "ce-log", "-o", "json"])).stdout) as { offsets: { end: number }[] }).offsets[0]?.end ?? 0;

  it("binary mode: the spec's example is stored as it came, body and attributes", async () => {
    const at = await logEnd();
    // Values beyond printable ASCII come percent-encoded; older senders may quote them.
    const res = await post("/messages/ce-log", '{"appinfoA":"abc"}', { ...SPEC_BINARY_HEADERS, "ce-subject": "Euro%20%E2%82%AC%20%F0%9F%98%80", "ce-quoted": '"a b"' });
    expect(res.status).toBe(202);
    const stored = (await tailN(riff.home, "ce-log", at + 1))[at];
    expect(stored?.payload).toBe('{"appinfoA":"abc"}');
    for (const [name, value] of Object.entries(SPEC_BINARY_HEADERS)) expect(stored?.headers[name]).toEqual([value]);
    expect(stored?.headers["ce-subject"]).toEqual(["Euro%20%E2%82%AC%20%F0%9F%98%80"]);
    expect(stored?.headers["ce-quoted"]).toEqual(["a%20b"]);
  });

  it("structured mode: the spec's examples are stored in binary form, data_base64 as bytes", async () => {
    const at = await logEnd();
    const headers = { "content-type": "application/cloudevents+json; charset=utf-8" };
    expect((await post("/messages/ce-log", JSON.stringify(SPEC_STRING_DATA), headers)).status).toBe(202);
    expect((await post("/messages/ce-log", JSON.stringify(SPEC_BINARY_DATA), headers)).status).toBe(202);
    const [xml, bytes] = (await tailN(riff.home, "ce-log", at + 2)).slice(at);
    expect(xml?.payload).toBe('<much wow="xml"/>');
    expect(xml?.headers).toMatchObject({ "content-type": ["text/xml"], ...SPEC_STRING_DATA_HEADERS });
    expect(bytes?.payload).toBe("hello world");
    expect(bytes?.headers["content-type"]).toEqual(["application/vnd.apache.thrift.binary"]);
  });

  it("batched mode: each event of the spec's batch is its own message, and the answer lists where each went", async () => {
    const at = await logEnd();
    const batch = [SPEC_STRING_DATA, { ...SPEC_STRING_DATA, id: "A234-1234-1235", type: "com.example.someotherevent", datacontenttype: "application/json", data: { n: 1 } }];
    const res = await post("/messages/ce-log", JSON.stringify(batch), { "content-type": "application/cloudevents-batch+json; charset=utf-8" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual([
      { topic: "ce-log", partition: 0, offset: at },
      { topic: "ce-log", partition: 0, offset: at + 1 },
    ]);
    const got = (await tailN(riff.home, "ce-log", at + 2)).slice(at);
    expect(got.map((m) => [m.headers["ce-type"]?.[0], m.headers["content-type"]?.[0], m.payload])).toEqual([
      ["com.example.someevent", "text/xml", '<much wow="xml"/>'],
      ["com.example.someotherevent", "application/json", '{"n":1}'],
    ]);
    const empty = await post("/messages/ce-log", "[]", { "content-type": "application/cloudevents-batch+json" });
    expect(await empty.json()).toEqual([]);
  });

  it("an invalid event is a 400 that names the attribute, and nothing is stored", async () => {
    const at = await logEnd();
    const structured = { "content-type": "application/cloudevents+json" };
    const cases: [Record<string, string>, string, string][] = [
      [{ ...SPEC_BINARY_HEADERS, "ce-specversion": "0.3" }, "{}", "specversion"],
      [{ "ce-specversion": "1.0", "ce-id": "1", "ce-type": "t" }, "x", "source"],
      [{ ...SPEC_BINARY_HEADERS, "ce-time": "yesterday" }, "{}", "time"],
      [{ ...SPEC_BINARY_HEADERS, "ce-Bad_Name": "x" }, "{}", "bad_name"],
      [structured, JSON.stringify({ ...SPEC_STRING_DATA, id: "" }), "id"],
      [structured, JSON.stringify({ ...SPEC_STRING_DATA, dataschema: "not/absolute" }), "dataschema"],
      [structured, JSON.stringify({ ...SPEC_STRING_DATA, comexampleothervalue: 1.5 }), "comexampleothervalue"],
    ];
    for (const [headers, body, attribute] of cases) {
      const res = await post("/messages/ce-log", body, headers);
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string; hint: string; details: { attribute: string } } };
      expect(error.code).toBe("RIFF_INVALID_CLOUDEVENT");
      expect(error.message).toContain(`CloudEvent attribute '${attribute}'`);
      expect(error.details.attribute).toBe(attribute);
      expect(error.hint).toContain("docs/cloudevents.md");
    }
    const batch = await post("/messages/ce-log", JSON.stringify([SPEC_STRING_DATA, { ...SPEC_STRING_DATA, type: undefined }]), { "content-type": "application/cloudevents-batch+json" });
    expect(((await batch.json()) as { error: { message: string; details: unknown } }).error).toMatchObject({
      message: expect.stringMatching(/^event 1 of the batch: CloudEvent attribute 'type' is missing/) as unknown,
      details: { attribute: "type", index: 1 },
    });
    expect(await logEnd()).toBe(at);
    // Other event formats, and a batch that waits for one reply: 415.
    expect((await post("/messages/ce-log", "x", { "content-type": "application/cloudevents+avro" })).status).toBe(415);
    expect((await post("/requests/seen-in", "[]", { "content-type": "application/cloudevents-batch+json" })).status).toBe(415);
  });

  it("the attributes reach the function as headers and come back on the reply in binary mode (the official SDK both ways)", async () => {
    const sent = new CloudEvent({ type: "com.example.order", source: "/shop/orders", id: "order-7", time: "2018-04-05T17:31:00Z", subject: "order 7", myext: "kept", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", datacontenttype: "application/json", data: { qty: 2 } });
    for (const message of [HTTP.binary(sent), HTTP.structured(sent)]) {
      const headers = Object.fromEntries(Object.entries(message.headers).map(([k, v]) => [k, String(v)]));
      const res = await post("/requests/seen-in", String(message.body), headers);
      expect(res.status).toBe(200);
      const reply = HTTP.toEvent({ headers: Object.fromEntries(res.headers.entries()), body: await res.text() }) as CloudEvent<Seen>;
      expect(reply.specversion).toBe("1.0");
      expect(reply.type).toBe("riff.reply");
      expect(reply.source).toBe("/riff/functions/seen");
      expect(reply.id).not.toBe("order-7");
      expect(reply["myext"]).toBe("kept");
      expect(reply.datacontenttype).toBe("application/json");
      const { seen, data } = reply.data as Seen;
      expect(data).toEqual({ qty: 2 });
      expect(seen).toMatchObject({
        "ce-specversion": "1.0",
        "ce-id": "order-7",
        "ce-source": "/shop/orders",
        "ce-type": "com.example.order",
        "ce-time": "2018-04-05T17:31:00.000Z",
        // Kept percent-encoded, as binary mode sends it.
        "ce-subject": "order%207",
        "ce-myext": "kept",
        "content-type": "application/json",
        // The event's trace goes on; the function sees its own span in it (docs/tracing.md).
        traceparent: expect.stringMatching(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/),
      });
      expect(seen["traceparent"]).not.toContain("b7ad6b7169203331");
    }
  });

  it("partitionkey is the message key, unless X-Riff-Key is given", async () => {
    for (const key of ["k0", "k1", "k2", "k3", "k4", "k5"]) {
      const plain = (await (await post("/messages/ce-keyed", "x", { "x-riff-key": key })).json()) as { partition: number };
      const event = (await (await post("/messages/ce-keyed", "x", { ...SPEC_BINARY_HEADERS, "ce-partitionkey": key })).json()) as { partition: number };
      const overridden = (await (await post("/messages/ce-keyed", "x", { ...SPEC_BINARY_HEADERS, "ce-partitionkey": "other", "x-riff-key": key })).json()) as { partition: number };
      expect([event.partition, overridden.partition]).toEqual([plain.partition, plain.partition]);
    }
  });

  it("a pipeline: the second function sees a new id and source, the original type and extensions; its output is another new event", async () => {
    const res = await post("/messages/pipe-in", '{"n":1}', { ...SPEC_BINARY_HEADERS, "ce-type": "com.example.order", "ce-tenant": "acme" });
    expect(res.status).toBe(202);
    const [out] = await tailN(riff.home, "pipe-out", 1);
    const { seen } = JSON.parse(out?.payload ?? "{}") as Seen;
    expect(seen["ce-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen["ce-id"]).not.toBe(SPEC_BINARY_HEADERS["ce-id"]);
    expect(seen).toMatchObject({ "ce-source": "/riff/functions/first", "ce-type": "com.example.order", "ce-tenant": "acme", "ce-specversion": "1.0" });
    expect(out?.headers["ce-source"]).toEqual(["/riff/functions/second"]);
    expect(out?.headers["ce-id"]?.[0]).not.toBe(seen["ce-id"]);
    expect(out?.headers["ce-type"]).toEqual(["com.example.order"]);
    expect(out?.headers["ce-tenant"]).toEqual(["acme"]);
  });

  it("plain HTTP is stored unchanged, and the function sees it as a CloudEvent of riff's", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const res = await post("/requests/echo-in", bytes, { "content-type": "application/octet-stream" });
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
    expect(res.headers.get("ce-source")).toBe("/riff/functions/echo");
    const { seen, data } = (await (await post("/requests/seen-in", "hello", { "content-type": "text/plain" })).json()) as Seen;
    expect(data).toBe("hello");
    // The event id is the message's position: stable if the message is delivered again.
    expect(seen).toMatchObject({ "ce-specversion": "1.0", "ce-source": "/riff/topics/seen-in", "ce-type": "riff.message", "content-type": "text/plain" });
    expect(seen["ce-id"]).toMatch(/^seen-in\/0@\d+$/);
    // What is stored is what was sent: riff adds nothing to a plain message on its way in.
    const at = await logEnd();
    expect((await post("/messages/ce-log", "as sent", { "content-type": "text/plain", "x-user": "u1" })).status).toBe(202);
    const [stored] = (await tailN(riff.home, "ce-log", at + 1)).slice(at);
    expect(stored?.payload).toBe("as sent");
    expect(Object.keys(stored?.headers ?? {}).sort()).toEqual(["content-type", "traceparent", "x-user"]);
  });
});
