import { CloudEvent, HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import type { RiffError } from "@riff/core";
import { addPlainMessageAttributes, binaryEventHeaders, decodeHeaderValue, encodeHeaderValue } from "./cloudevents.js";
import { eventFormatOf, parseEventBatch, parseStructuredEvent } from "./cloudevents-json.js";
import { nextEventHeaders } from "./cloudevents-hop.js";
import { SPEC_BINARY_DATA, SPEC_JSON_DATA, SPEC_STRING_DATA, SPEC_STRING_DATA_HEADERS } from "./cloudevents-examples.test-util.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The RiffError `fn` throws. */
function errorOf(fn: () => unknown): RiffError {
  try {
    fn();
  } catch (err) {
    return err as RiffError;
  }
  throw new Error("it did not throw");
}

describe("structured mode", () => {
  it("turns the spec's String-data example into binary form", () => {
    const event = parseStructuredEvent(bytes(JSON.stringify(SPEC_STRING_DATA)));
    expect(event.contentType).toBe("text/xml");
    expect(text(event.data)).toBe('<much wow="xml"/>');
    expect(event.headers).toEqual(SPEC_STRING_DATA_HEADERS);
  });

  it("decodes data_base64 (the spec's Binary-data example) and keeps JSON data as JSON", () => {
    const binary = parseStructuredEvent(bytes(JSON.stringify(SPEC_BINARY_DATA)));
    expect(binary.contentType).toBe("application/vnd.apache.thrift.binary");
    expect(text(binary.data)).toBe("hello world");
    const json = parseStructuredEvent(bytes(JSON.stringify(SPEC_JSON_DATA)));
    expect(json.contentType).toBe("application/json");
    expect(JSON.parse(text(json.data))).toEqual(SPEC_JSON_DATA.data);
    // No datacontenttype: data is JSON.
    const implicit = parseStructuredEvent(bytes(JSON.stringify({ specversion: "1.0", id: "1", source: "/s", type: "t", data: "hi" })));
    expect(implicit.contentType).toBe("application/json");
    expect(text(implicit.data)).toBe('"hi"');
    // null is the same as absent.
    expect(parseStructuredEvent(bytes(JSON.stringify({ ...SPEC_STRING_DATA, subject: null }))).headers["ce-subject"]).toBeUndefined();
  });

  it("gives the same binary form as the official SDK's binary emitter, for events the SDK builds", () => {
    const event = new CloudEvent({ ...SPEC_STRING_DATA, time: "2018-04-05T17:31:00.000Z", subject: "Euro € 😀", traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
    const structured = HTTP.structured(event);
    const ours = parseStructuredEvent(bytes(String(structured.body)));
    const sdk = HTTP.binary(event);
    const { traceparent, ...theirs } = Object.fromEntries(Object.entries(sdk.headers).filter(([k]) => k.startsWith("ce-")).map(([k, v]) => [k.replace(/^ce-/, ""), String(v)]));
    // Trace context travels as the traceparent header, not as ce-traceparent.
    expect(ours.headers["traceparent"]).toEqual([traceparent]);
    for (const [name, value] of Object.entries(theirs)) expect(decodeHeaderValue(name, ours.headers[`ce-${name}`]?.[0] ?? "")).toBe(value);
    expect(ours.headers["ce-subject"]).toEqual(["Euro%20%E2%82%AC%20%F0%9F%98%80"]);
    expect(ours.contentType).toBe(sdk.headers["content-type"]);
    expect(text(ours.data)).toBe(sdk.body);
  });
});

describe("batched mode", () => {
  it("turns each event of the spec's batch into its own message, and an empty batch into none", () => {
    const batch = [SPEC_STRING_DATA, { ...SPEC_JSON_DATA, type: "com.example.someotherevent" }];
    const events = parseEventBatch(bytes(JSON.stringify(batch)));
    expect(events.map((e) => e.headers["ce-type"])).toEqual([["com.example.someevent"], ["com.example.someotherevent"]]);
    expect(events.map((e) => e.contentType)).toEqual(["text/xml", "application/json"]);
    expect(parseEventBatch(bytes("[]"))).toEqual([]);
  });

  it("names the event of the batch at fault, and takes none", () => {
    const err = errorOf(() => parseEventBatch(bytes(JSON.stringify([SPEC_STRING_DATA, { ...SPEC_STRING_DATA, id: "" }]))));
    expect(err.code).toBe("RIFF_INVALID_CLOUDEVENT");
    expect(err.message).toMatch(/^event 1 of the batch: CloudEvent attribute 'id' is empty; give id a non-empty value$/);
    expect(err.details).toEqual({ attribute: "id", index: 1 });
  });
});

describe("binary mode", () => {
  const required: [string, string][] = [
    ["ce-specversion", "1.0"],
    ["ce-type", "com.example.someevent"],
    ["ce-time", "2018-04-05T03:56:24Z"],
    ["ce-id", "1234-1234-1234"],
    ["ce-source", "/mycontext/subcontext"],
  ];

  it("keeps the spec's binary example as it is, and moves ce-traceparent to traceparent", () => {
    const headers = binaryEventHeaders([...required, ["ce-traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"]]);
    expect(headers).toEqual({ ...Object.fromEntries(required.map(([k, v]) => [k, [v]])), traceparent: ["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"] });
  });

  it("decodes percent-encoding and quoted values, and writes them encoded the spec's way", () => {
    expect(encodeHeaderValue("Euro € 😀")).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(decodeHeaderValue("x", "Euro%20%e2%82%ac%20%F0%9F%98%80")).toBe("Euro € 😀");
    expect(binaryEventHeaders([...required, ["ce-myext", '"a \\"quoted\\" value"']])["ce-myext"]).toEqual(["a%20%22quoted%22%20value"]);
    // An overlong encoding of a space: not UTF-8.
    expect(errorOf(() => decodeHeaderValue("myext", "%C0%A0")).message).toContain("'myext' is percent-encoded bytes that are not UTF-8");
  });
});

describe("invalid events: each names its attribute", () => {
  const base = { specversion: "1.0", id: "1", source: "/s", type: "t" };
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["no specversion", { ...base, specversion: undefined }, "specversion", /is missing; add specversion 1\.0/],
    ["specversion 0.3", { ...base, specversion: "0.3" }, "specversion", /is '0\.3', which riff does not take; set specversion to 1\.0/],
    ["no id", { ...base, id: undefined }, "id", /is missing; add id/],
    ["an empty type", { ...base, type: "" }, "type", /is empty/],
    ["a source that is no URI-reference", { ...base, source: "my source" }, "source", /is 'my source', not a URI-reference; set source to/],
    ["a source with a bad scheme", { ...base, source: "1x:y" }, "source", /URI-reference/],
    ["a relative dataschema", { ...base, dataschema: "schemas/a.json" }, "dataschema", /is 'schemas\/a.json', not an absolute URI/],
    ["a time that is no timestamp", { ...base, time: "yesterday" }, "time", /is 'yesterday', not an RFC 3339 timestamp; write time like/],
    ["February 30th", { ...base, time: "2018-02-30T00:00:00Z" }, "time", /RFC 3339/],
    ["an upper-case name", { ...base, MyExt: "x" }, "MyExt", /is not a valid attribute name; name attributes with 1 to 20 lower-case letters/],
    ["a name over 20 characters", { ...base, abcdefghijklmnopqrstu: "x" }, "abcdefghijklmnopqrstu", /not a valid attribute name/],
    ["an object extension", { ...base, ext: { a: 1 } }, "ext", /is of type object where a string, boolean or 32-bit integer belongs/],
    ["a fractional extension", { ...base, ext: 1.5 }, "ext", /the number 1\.5, not a 32-bit integer/],
    ["a control character", { ...base, subject: "a\nb" }, "subject", /control character/],
    ["data and data_base64", { ...base, data: "x", data_base64: "eA==" }, "data", /along with data_base64/],
    ["data_base64 that is not base64", { ...base, data_base64: "not base64!" }, "data_base64", /is not a base64 string/],
  ];
  for (const [name, event, attribute, message] of cases) {
    it(name, () => {
      const err = errorOf(() => parseStructuredEvent(bytes(JSON.stringify(event))));
      expect(err.code).toBe("RIFF_INVALID_CLOUDEVENT");
      expect(err.status).toBe(400);
      expect(err.message).toContain(`CloudEvent attribute '${attribute}' `);
      expect(err.message).toMatch(message);
      expect(err.details).toEqual({ attribute });
    });
  }

  it("binary mode: a missing ce-source, a bad header name, an extension given twice", () => {
    expect(errorOf(() => binaryEventHeaders([["ce-specversion", "1.0"], ["ce-id", "1"], ["ce-type", "t"]])).details).toEqual({ attribute: "source" });
    expect(errorOf(() => binaryEventHeaders([["ce-my-ext", "x"]])).message).toContain("CloudEvent attribute 'my-ext' is not a valid attribute name");
    expect(errorOf(() => binaryEventHeaders([["ce-a", "1"], ["ce-a", "2"]])).message).toContain("'a' is given twice");
  });

  it("a body that is not a JSON object says so", () => {
    expect(errorOf(() => parseStructuredEvent(bytes("{nope"))).message).toMatch(/^the body is not JSON/);
    expect(errorOf(() => parseStructuredEvent(bytes("[]"))).message).toContain("application/cloudevents-batch+json");
  });
});

describe("content modes", () => {
  it("tells the formats apart by Content-Type, parameters and case aside", () => {
    expect(eventFormatOf(undefined)).toBeUndefined();
    expect(eventFormatOf("application/json")).toBeUndefined();
    expect(eventFormatOf("Application/CloudEvents+JSON; charset=utf-8")).toBe("structured");
    expect(eventFormatOf("application/cloudevents-batch+json")).toBe("batch");
    expect(eventFormatOf("application/cloudevents+avro")).toBe("unsupported");
  });
});

describe("plain messages", () => {
  it("get riff's attributes, and an event keeps its own", () => {
    const plain = { "content-type": ["text/plain"] };
    addPlainMessageAttributes(plain, "numbers", "numbers/0@41");
    expect(plain).toEqual({ "content-type": ["text/plain"], "ce-specversion": ["1.0"], "ce-id": ["numbers/0@41"], "ce-source": ["/riff/topics/numbers"], "ce-type": ["riff.message"] });
    const event = { "ce-specversion": ["1.0"], "ce-id": ["e-1"], "ce-source": ["/s"], "ce-type": ["t"] };
    addPlainMessageAttributes(event, "numbers", "numbers/0@42");
    expect(event["ce-id"]).toEqual(["e-1"]);
  });
});

describe("the next hop", () => {
  const input = {
    "ce-specversion": ["1.0"],
    "ce-id": ["in-1"],
    "ce-source": ["/client"],
    "ce-type": ["com.example.order"],
    "ce-time": ["2018-04-05T03:56:24Z"],
    "ce-dataschema": ["https://example.com/in.json"],
    "ce-tenant": ["acme"],
    "ce-subject": ["order-7"],
    "content-type": ["text/plain"],
    accept: ["application/json"],
    "x-user": ["u1"],
  };
  const hop = { id: "out-1", source: "/riff/functions/f" };

  it("an output is a new event: own id and source, no time; the type, extensions and user headers go along", () => {
    expect(nextEventHeaders(input, { "content-type": ["application/json"] }, hop, "all")).toEqual({
      "ce-specversion": ["1.0"],
      "ce-id": ["out-1"],
      "ce-source": ["/riff/functions/f"],
      "ce-type": ["com.example.order"],
      "ce-tenant": ["acme"],
      "ce-subject": ["order-7"],
      "content-type": ["application/json"],
      "x-user": ["u1"],
    });
  });

  it("a reply takes only the extensions, with the reply type unless the function set one", () => {
    const reply = nextEventHeaders(input, { "content-type": ["text/plain"] }, { ...hop, type: "riff.reply" }, "attributes");
    expect(reply).toEqual({ "ce-specversion": ["1.0"], "ce-id": ["out-1"], "ce-source": ["/riff/functions/f"], "ce-type": ["riff.reply"], "ce-tenant": ["acme"], "ce-subject": ["order-7"], "content-type": ["text/plain"] });
    expect(nextEventHeaders(input, { "ce-type": ["com.example.done"], "ce-id": ["mine"] }, { ...hop, type: "riff.reply" }, "attributes")["ce-type"]).toEqual(["com.example.done"]);
    expect(nextEventHeaders({}, {}, hop, "all")["ce-type"]).toEqual(["riff.message"]);
  });
});
