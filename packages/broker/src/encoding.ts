import type { Headers } from "@riff/core";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/**
 * 32-bit FNV-1a of the key's UTF-8 bytes. Stable across processes, versions and broker
 * implementations, so a key keeps its partition for as long as the partition count does.
 */
export function hashKey(key: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    // ASCII is its own UTF-8; only other text pays for an encoding pass.
    if (c >= 0x80) return hashBytes(utf8.encode(key));
    h = Math.imul(h ^ c, FNV_PRIME);
  }
  return h >>> 0;
}

function hashBytes(bytes: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] ?? 0), FNV_PRIME);
  return h >>> 0;
}

/** The partition of `key` among `partitions`. */
export function partitionForKey(key: string, partitions: number): number {
  return hashKey(key) % partitions;
}

/**
 * Headers as stored: `null` when empty (the common case costs nothing), else JSON of the
 * lower-cased record. JSON.parse is faster in V8 than any hand-written binary decoder for these
 * short strings, and the column stays readable with the sqlite3 shell.
 */
export function encodeHeaders(headers: Headers | undefined): string | null {
  if (headers === undefined) return null;
  let empty = true;
  let lower = true;
  for (const name in headers) {
    empty = false;
    if (name !== name.toLowerCase()) lower = false;
  }
  if (empty) return null;
  if (lower) return JSON.stringify(headers);
  // No prototype: a header named "constructor" or "__proto__" is a header like any other.
  const out = Object.create(null) as Headers;
  for (const [name, values] of Object.entries(headers)) {
    (out[name.toLowerCase()] ??= []).push(...values);
  }
  return JSON.stringify(out);
}

/** Inverse of {@link encodeHeaders}; always a fresh object the caller may change. */
export function decodeHeaders(stored: string | null): Headers {
  return stored === null ? {} : (JSON.parse(stored) as Headers);
}

/** True when `headers` is a record of string arrays. */
export function isValidHeaders(headers: unknown): headers is Headers {
  if (headers === null || typeof headers !== "object" || Array.isArray(headers)) return false;
  for (const values of Object.values(headers as Record<string, unknown>)) {
    if (!Array.isArray(values) || !values.every((v) => typeof v === "string")) return false;
  }
  return true;
}

/**
 * Size of a message as counted for the size limit and for retention: the UTF-8 bytes of the
 * payload, key and encoded headers. Retention's SQL (SIZE_EXPR in retention.ts) counts the same
 * bytes; if the two disagreed, the retained-bytes figure would drift and a sweep could delete
 * every message.
 */
export function storedSize(
  payload: Uint8Array,
  key: string | null,
  headers: string | null,
): number {
  return payload.byteLength + utf8Length(key) + utf8Length(headers);
}

function utf8Length(text: string | null): number {
  return text === null ? 0 : Buffer.byteLength(text, "utf8");
}
