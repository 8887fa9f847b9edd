/**
 * The structured (`application/cloudevents+json`) and batched
 * (`application/cloudevents-batch+json`) content modes, turned into binary form: attributes as
 * headers, the data as bytes. Pure: no IO, nothing from `node:`.
 */
import type { Headers } from "@riff/core";
import { checkAttributeName, checkAttributeValue, checkRequired, invalidEvent, setAttribute, type EventPlace } from "./cloudevents.js";

/** The media type of one event in the JSON format. */
export const CE_STRUCTURED_TYPE = "application/cloudevents+json";
/** The media type of a JSON batch of events. */
export const CE_BATCH_TYPE = "application/cloudevents-batch+json";

/** An event in binary form. */
export interface BinaryEvent {
  /** `ce-*` headers (percent-encoded as binary mode sends them), plus `traceparent`/`tracestate`. */
  headers: Headers;
  /** `datacontenttype`, when the event has one (or implies `application/json` by its `data`). */
  contentType: string | undefined;
  data: Uint8Array;
}

/** Which content mode a Content-Type selects. Undefined: binary mode or plain HTTP. */
export type EventFormat = "structured" | "batch" | "unsupported";

const CLOUDEVENTS_MEDIA = /^\s*application\/cloudevents/i;

/**
 * The CloudEvents format a request's Content-Type names. A cheap test that is false for nearly
 * every request (plain and binary mode), so they pay for no parsing.
 */
export function eventFormatOf(contentType: string | undefined): EventFormat | undefined {
  if (contentType === undefined || !CLOUDEVENTS_MEDIA.test(contentType)) return undefined;
  const media = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (media === CE_STRUCTURED_TYPE) return "structured";
  if (media === CE_BATCH_TYPE) return "batch";
  return "unsupported";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Reads one structured-mode event. */
export function parseStructuredEvent(body: Uint8Array): BinaryEvent {
  const json = parseJson(body);
  if (!isObject(json)) throw invalidEvent(undefined, "the body is not a JSON object", `send one event as a JSON object with Content-Type ${CE_STRUCTURED_TYPE} (a JSON array goes with ${CE_BATCH_TYPE})`);
  return eventOf(json, {});
}

/** Reads a batch: every event is checked before any is taken, so a bad one stores nothing. */
export function parseEventBatch(body: Uint8Array): BinaryEvent[] {
  const json = parseJson(body);
  if (!Array.isArray(json)) throw invalidEvent(undefined, "the body is not a JSON array", `send a batch as a JSON array of events with Content-Type ${CE_BATCH_TYPE}`);
  return json.map((item: unknown, index) => {
    if (!isObject(item)) throw invalidEvent(undefined, "is not a JSON object", "make every element of the batch an event object", { index });
    return eventOf(item, { index });
  });
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body)) as unknown;
  } catch (err) {
    throw invalidEvent(undefined, `the body is not JSON (${err instanceof Error ? err.message : String(err)})`, "send the event in the JSON format, UTF-8 encoded");
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Int32, the range of a CloudEvents Integer. */
const MIN_INTEGER = -2_147_483_648;
const MAX_INTEGER = 2_147_483_647;

/** One event of the JSON format in binary form. */
function eventOf(event: Record<string, unknown>, at: EventPlace): BinaryEvent {
  const headers: Headers = {};
  let contentType: string | undefined;
  for (const [name, value] of Object.entries(event)) {
    if (name === "data" || name === "data_base64") continue;
    checkAttributeName(name, at);
    // The JSON format: null is the same as absent.
    if (value === null) continue;
    const text = attributeText(name, value, at);
    checkAttributeValue(name, text, at);
    if (name === "datacontenttype") contentType = text;
    else setAttribute(headers, name, text);
  }
  checkRequired((name) => event[name] !== undefined && event[name] !== null, at);
  const { data, base64 } = { data: event["data"], base64: event["data_base64"] };
  if (data !== undefined && data !== null && base64 !== undefined && base64 !== null) {
    throw invalidEvent("data", "is given along with data_base64", "send the data in one of them: data for JSON or text, data_base64 for bytes", at);
  }
  if (base64 !== undefined && base64 !== null) return { headers, contentType, data: decodeBase64(base64, at) };
  if (data === undefined || data === null) return { headers, contentType, data: new Uint8Array(0) };
  // No datacontenttype means JSON data; a string under another type is that type's text.
  if (contentType === undefined || isJsonType(contentType) || typeof data !== "string") {
    return { headers, contentType: contentType ?? "application/json", data: encoder.encode(JSON.stringify(data)) };
  }
  return { headers, contentType, data: encoder.encode(data) };
}

/** An attribute's canonical string: strings as they are, booleans and int32 integers spelled out. */
function attributeText(name: string, value: unknown, at: EventPlace): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (typeof value === "number" && Number.isInteger(value) && value >= MIN_INTEGER && value <= MAX_INTEGER) return String(value);
  const is = typeof value === "number" ? `the number ${value}, not a 32-bit integer,` : Array.isArray(value) ? "an array" : `of type ${typeof value}`;
  throw invalidEvent(name, `is ${is} where a string, boolean or 32-bit integer belongs`, `give ${name} a string, true/false, or a whole number from -2147483648 to 2147483647`, at);
}

function decodeBase64(value: unknown, at: EventPlace): Uint8Array {
  if (typeof value === "string" && /^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(value)) {
    try {
      const binary = atob(value);
      const out = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
      return out;
    } catch {
      // Falls through to the error below: a length that is not a base64 one.
    }
  }
  throw invalidEvent("data_base64", "is not a base64 string", "encode the bytes as standard base64 (RFC 4648, e.g. aGVsbG8=)", at);
}

/** `application/json`, `text/json` and any `+json` type. */
export function isJsonType(contentType: string): boolean {
  const media = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  return media === "application/json" || media === "text/json" || media.endsWith("+json");
}
