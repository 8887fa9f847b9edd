/**
 * CloudEvents 1.0 attributes as riff carries them: every event is kept in the HTTP binding's
 * binary form (`ce-<name>` headers, the data as the payload, `datacontenttype` as Content-Type),
 * whichever mode it arrived in, so every function sees the same thing. This file checks and
 * encodes attributes; `cloudevents-json.ts` reads the structured and batched modes.
 * Pure: no IO, nothing from `node:`.
 */
import { RiffError, type Headers } from "@riff/core";

/** The only version riff takes. */
export const CE_SPECVERSION = "1.0";
/** The prefix of an attribute's header in binary mode. */
export const CE_HEADER_PREFIX = "ce-";

/** The header names of the attributes riff reads or sets itself. */
export const CeHeaders = {
  specversion: "ce-specversion",
  id: "ce-id",
  source: "ce-source",
  type: "ce-type",
  time: "ce-time",
  dataschema: "ce-dataschema",
  subject: "ce-subject",
  /** The partitioning extension: the message key. */
  partitionkey: "ce-partitionkey",
} as const;

/** The `type` of a message riff wraps itself: a plain publish, a function's output. */
export const RIFF_MESSAGE_TYPE = "riff.message";
/** The `type` of a `/requests` reply whose function set none. */
export const RIFF_REPLY_TYPE = "riff.reply";

/** Extensions that are W3C trace context: they travel as the `traceparent`/`tracestate` headers. */
const TRACE_CONTEXT = new Set(["traceparent", "tracestate"]);

/** Where an event came from, for error messages: the whole request, or one event of a batch. */
export interface EventPlace {
  /** 0-based index in a batch. */
  index?: number;
}

/** The 400 of an invalid event: names the attribute and says how to fix it. */
export function invalidEvent(attribute: string | undefined, problem: string, fix: string, at: EventPlace = {}): RiffError {
  const where = at.index === undefined ? "" : `event ${at.index} of the batch: `;
  const what = attribute === undefined ? "" : `CloudEvent attribute '${attribute}' `;
  const details: Record<string, unknown> = attribute === undefined ? {} : { attribute };
  if (at.index !== undefined) details["index"] = at.index;
  return new RiffError("RIFF_INVALID_CLOUDEVENT", `${where}${what}${problem}; ${fix}`, {
    hint: `${fix} (CloudEvents 1.0 needs specversion 1.0, id, source and type; see docs/cloudevents.md)`,
    details,
  });
}

const NAME = /^[a-z0-9]{1,20}$/;
/** Control characters, which no CloudEvents String may hold. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** RFC 3986 characters: unreserved, reserved, and percent-escapes. */
const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Checks an attribute name: lower-case letters and digits, at most 20. */
export function checkAttributeName(name: string, at: EventPlace = {}): void {
  if (!NAME.test(name)) {
    throw invalidEvent(name, "is not a valid attribute name", "name attributes with 1 to 20 lower-case letters a-z and digits 0-9 (e.g. comexampleextension1)", at);
  }
}

/**
 * Checks one attribute's value in its canonical string form. Required attributes must be
 * non-empty; `source` is a URI-reference, `dataschema` a URI, `time` an RFC 3339 timestamp.
 */
export function checkAttributeValue(name: string, value: string, at: EventPlace = {}): void {
  if (CONTROL.test(value)) throw invalidEvent(name, "holds a control character", "remove control characters (such as newlines) from it", at);
  switch (name) {
    case "specversion":
      if (value !== CE_SPECVERSION) throw invalidEvent(name, `is '${clip(value)}', which riff does not take`, "set specversion to 1.0 (riff takes CloudEvents 1.0)", at);
      return;
    case "id":
    case "type":
    case "subject":
    case "datacontenttype":
      if (value === "") throw invalidEvent(name, "is empty", `give ${name} a non-empty value`, at);
      return;
    case "source":
      if (value === "" || !isUriReference(value)) throw invalidEvent(name, value === "" ? "is empty" : `is '${clip(value)}', not a URI-reference`, "set source to a URI-reference such as /myapp/orders or https://example.com/orders", at);
      return;
    case "dataschema":
      if (!isUriReference(value) || !hasScheme(value)) throw invalidEvent(name, `is '${clip(value)}', not an absolute URI`, "set dataschema to an absolute URI such as https://example.com/schemas/order.json, or leave it out", at);
      return;
    case "time":
      if (!isRfc3339(value)) throw invalidEvent(name, `is '${clip(value)}', not an RFC 3339 timestamp`, "write time like 2018-04-05T17:31:00Z, or leave it out", at);
      return;
    default:
  }
}

/** The attributes every event must have. */
export const REQUIRED_ATTRIBUTES = ["specversion", "id", "source", "type"] as const;

/** Throws for the first required attribute `has` says is missing. */
export function checkRequired(has: (name: string) => boolean, at: EventPlace = {}): void {
  for (const name of REQUIRED_ATTRIBUTES) {
    if (!has(name)) {
      const fix = name === "specversion" ? "add specversion 1.0 (header ce-specversion: 1.0 in binary mode)" : `add ${name} (header ce-${name} in binary mode)`;
      throw invalidEvent(name, "is missing", fix, at);
    }
  }
}

/**
 * The canonical headers of a binary-mode event from its `ce-*` request headers (lower-case
 * names, raw values): each value unquoted and percent-decoded, checked, and encoded again the
 * way riff writes it. Trace-context extensions become their own headers.
 */
export function binaryEventHeaders(ce: readonly (readonly [name: string, value: string])[]): Headers {
  const out: Headers = {};
  for (const [header, raw] of ce) {
    const name = header.slice(CE_HEADER_PREFIX.length);
    checkAttributeName(name);
    const value = decodeHeaderValue(name, raw);
    checkAttributeValue(name, value);
    if (out[header] !== undefined) throw invalidEvent(name, "is given twice", `send one ce-${name} header`);
    out[header] = [encodeHeaderValue(value)];
  }
  checkRequired((name) => out[CE_HEADER_PREFIX + name] !== undefined);
  for (const name of TRACE_CONTEXT) {
    const value = out[CE_HEADER_PREFIX + name];
    if (value === undefined) continue;
    delete out[CE_HEADER_PREFIX + name];
    out[name] = value;
  }
  return out;
}

/**
 * Gives a message that came as plain HTTP (no `ce-specversion`) riff's own attributes, so a
 * function sees every message as a CloudEvent: `id` the message's position
 * (`topic/partition@offset`, stable across redeliveries), `source=/riff/topics/<topic>`,
 * `type=riff.message`. Added when the message is handed to a function, not stored: a plain
 * message stays as it was sent.
 */
export function addPlainMessageAttributes(headers: Headers, topic: string, id: string): void {
  if (headers[CeHeaders.specversion] !== undefined) return;
  headers[CeHeaders.specversion] = [CE_SPECVERSION];
  headers[CeHeaders.id] = [id];
  headers[CeHeaders.source] = [`/riff/topics/${topic}`];
  headers[CeHeaders.type] = [RIFF_MESSAGE_TYPE];
}

/** Sets attribute `name` (already checked) on `headers`, where binary mode would carry it. */
export function setAttribute(headers: Headers, name: string, value: string): void {
  headers[TRACE_CONTEXT.has(name) ? name : CE_HEADER_PREFIX + name] = [encodeHeaderValue(value)];
}

/**
 * Percent-encodes a value for a header, as the HTTP binding asks: space, `"`, `%` and anything
 * outside printable ASCII, byte by byte of its UTF-8.
 */
export function encodeHeaderValue(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length && plain; i++) {
    const c = value.charCodeAt(i);
    plain = c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x25;
  }
  if (plain) return value;
  let out = "";
  for (const ch of value) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x25) out += ch;
    else for (const b of encoder.encode(ch)) out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Decodes a binary-mode header value: a double-quoted string is unquoted first (older senders),
 * then one round of percent-decoding; bytes that are not valid UTF-8 are refused.
 */
export function decodeHeaderValue(name: string, raw: string): string {
  let value = raw;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, "$1");
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw invalidEvent(name, `has a '%' not followed by two hex digits`, `percent-encode its value as UTF-8 bytes (e.g. %20 for a space)`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of encoder.encode(value[i] ?? "")) bytes.push(b);
  }
  try {
    return strictDecoder.decode(new Uint8Array(bytes));
  } catch {
    throw invalidEvent(name, "is percent-encoded bytes that are not UTF-8", "percent-encode its value as UTF-8 bytes (e.g. %E2%82%AC for the euro sign)");
  }
}

function isUriReference(value: string): boolean {
  if (!URI_CHARS.test(value)) return false;
  // A colon before the first '/', '?' or '#' ends a scheme, which must then be a valid one.
  const end = value.search(/[/?#]/);
  const head = end === -1 ? value : value.slice(0, end);
  const colon = head.indexOf(":");
  return colon === -1 || SCHEME.test(head.slice(0, colon));
}

function hasScheme(value: string): boolean {
  const colon = value.indexOf(":");
  return colon > 0 && SCHEME.test(value.slice(0, colon));
}

function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (m === null) return false;
  const n = (i: number) => Number(m[i] ?? 0);
  const month = n(2);
  // Day 0 of the next month is the last day of this one: no February 30th.
  const daysInMonth = new Date(Date.UTC(n(1), month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && n(3) >= 1 && n(3) <= daysInMonth && n(4) <= 23 && n(5) <= 59 && n(6) <= 60 && n(7) <= 23 && n(8) <= 59;
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 60)}…` : value;
}
