import type { Headers } from "@riff/core";
import { type MsgHdrs, headers as natsHeaders } from "nats";
import type { PublishMessage, StoredMessage, TopicInfo } from "@riff/broker";
import { checkMessage, encodeHeaders } from "@riff/broker/kit";
import { messageTooLarge } from "./errors.js";
import { MSG_ID_HEADER } from "./publisher.js";

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
  const p = checkMessage(info, message, roundRobin);
  const { key, headers } = message;
  const json = encodeHeaders(headers) ?? undefined;
  const keyJson = key === undefined ? undefined : JSON.stringify(key);
  // Counted as the SQLite broker counts: payload, key and encoded headers.
  const size = message.payload.byteLength + byteLength(key) + byteLength(json);
  if (size > maxBytes) throw messageTooLarge(topic, size, maxBytes, "riff's maxMessageBytes");
  let hdrs: MsgHdrs | undefined;
  // Every message carries a header block, if only for its Nats-Msg-Id.
  let wire = message.payload.byteLength + HEADER_BLOCK_OVERHEAD + MSG_ID_LINE_BYTES;
  if (json !== undefined || keyJson !== undefined) {
    hdrs = natsHeaders();
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
/** The `Nats-Msg-Id` line the publisher adds: name, ": ", an id of at most 48 characters, CRLF. */
const MSG_ID_LINE_BYTES = MSG_ID_HEADER.length + 4 + 48;

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

function byteLength(text: string | undefined): number {
  return text === undefined ? 0 : Buffer.byteLength(text, "utf8");
}
