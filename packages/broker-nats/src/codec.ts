import type { Headers } from "@riff/core";
import { type MsgHdrs, headers as natsHeaders } from "nats";
import { partitionForKey } from "@riff/broker";
import type { PublishMessage, StoredMessage, TopicInfo } from "@riff/broker";
import { invalidArgument, messageTooLarge } from "./errors.js";
import { checkPartition } from "./validation.js";

/**
 * riff's headers and key ride in two NATS headers, each JSON: NATS header values may not hold
 * CR or LF and names must be tokens, while riff allows any text in both. JSON escapes control
 * characters, so any riff header or key crosses intact.
 */
export const HEADERS_HEADER = "Riff-Headers";
export const KEY_HEADER = "Riff-Key";


/** A message checked and encoded for one partition's stream. */
export interface EncodedMessage {
  partition: number;
  payload: Uint8Array;
  headers: MsgHdrs | undefined;
}

/**
 * Checks `message` and encodes it, choosing its partition: an explicit one, else the key's hash
 * (the same function as the SQLite broker's, so a key lands alike on both), else `roundRobin`.
 * `maxPayload` is the server's limit on payload plus header block.
 */
export function encodeMessage(
  info: TopicInfo,
  message: PublishMessage,
  roundRobin: () => number,
  maxBytes: number,
  maxPayload: number,
): EncodedMessage {
  const topic = info.name;
  if (message === null || typeof message !== "object" || !(message.payload instanceof Uint8Array)) {
    throw invalidArgument(`a message for topic '${topic}' needs a payload of bytes (Uint8Array)`);
  }
  const { key, partition, headers } = message;
  if (key !== undefined && typeof key !== "string") {
    throw invalidArgument(`a message key for topic '${topic}' must be a string`);
  }
  if (headers !== undefined && !isValidHeaders(headers)) {
    throw invalidArgument(`message headers for topic '${topic}' must map names to arrays of strings`);
  }
  let p: number;
  if (partition !== undefined) {
    checkPartition(info, partition);
    p = partition;
  } else if (key !== undefined) {
    p = partitionForKey(key, info.partitions);
  } else {
    p = roundRobin() % info.partitions;
  }
  const json = headersJson(headers);
  const keyJson = key === undefined ? undefined : JSON.stringify(key);
  // Counted as the SQLite broker counts: payload, key and encoded headers.
  const size = message.payload.byteLength + byteLength(key) + byteLength(json);
  if (size > maxBytes) throw messageTooLarge(topic, size, maxBytes, "riff's maxMessageBytes");
  let hdrs: MsgHdrs | undefined;
  let wire = message.payload.byteLength;
  if (json !== undefined || keyJson !== undefined) {
    hdrs = natsHeaders();
    wire += HEADER_BLOCK_OVERHEAD;
    if (json !== undefined) {
      hdrs.set(HEADERS_HEADER, json);
      wire += HEADERS_HEADER.length + 4 + byteLength(json);
    }
    if (keyJson !== undefined) {
      hdrs.set(KEY_HEADER, keyJson);
      wire += KEY_HEADER.length + 4 + byteLength(keyJson);
    }
  }
  if (wire > maxPayload) throw messageTooLarge(topic, wire, maxPayload, "the NATS server's max_payload, headers included");
  return { partition: p, payload: message.payload, headers: hdrs };
}

/** "NATS/1.0\r\n" before the header lines and "\r\n" after them. */
const HEADER_BLOCK_OVERHEAD = 12;

/** A stored message from what JetStream returned. */
export function decodeMessage(
  topic: string,
  partition: number,
  seq: number,
  timestampMs: number,
  payload: Uint8Array,
  hdrs: MsgHdrs | undefined,
): StoredMessage {
  const json = hdrs?.get(HEADERS_HEADER);
  const keyJson = hdrs?.get(KEY_HEADER);
  return {
    topic,
    partition,
    offset: seq - 1,
    payload,
    headers: json === undefined || json === "" ? {} : (JSON.parse(json) as Headers),
    key: keyJson === undefined || keyJson === "" ? undefined : (JSON.parse(keyJson) as string),
    timestamp: timestampMs,
  };
}

/** `undefined` when empty, else JSON of the lower-cased record, names differing in case merged. */
function headersJson(headers: Headers | undefined): string | undefined {
  if (headers === undefined) return undefined;
  // No prototype: a header named "constructor" or "__proto__" is a header like any other.
  const out = Object.create(null) as Headers;
  let empty = true;
  for (const [name, values] of Object.entries(headers)) {
    empty = false;
    (out[name.toLowerCase()] ??= []).push(...values);
  }
  return empty ? undefined : JSON.stringify(out);
}

function isValidHeaders(headers: unknown): headers is Headers {
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) return false;
  return Object.values(headers as Record<string, unknown>).every(
    (values) => Array.isArray(values) && values.every((v) => typeof v === "string"),
  );
}

function byteLength(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text, "utf8");
}
