/**
 * UTF-8 helpers for header names and values. Headers are short and nearly always ASCII, and for
 * short strings a JS loop beats the cost of crossing into TextEncoder/TextDecoder, so both
 * directions take an ASCII fast path and fall back to the platform codec for anything else.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Below this many bytes, decoding byte-by-byte in JS is faster than a TextDecoder call. */
const SHORT_STRING_BYTES = 64;

/**
 * The number of bytes `s` takes in UTF-8, without allocating. A lone surrogate counts 3 bytes,
 * because TextEncoder writes it as U+FFFD.
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Writes `s` into `out` at `offset`; `byteLength` must be `utf8Length(s)`. Returns the offset
 * after the string.
 */
export function writeUtf8(s: string, byteLength: number, out: Uint8Array, offset: number): number {
  if (byteLength === s.length) {
    // Equal lengths means every code unit is ASCII.
    for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
  } else {
    encoder.encodeInto(s, out.subarray(offset, offset + byteLength));
  }
  return offset + byteLength;
}

/** Decodes `bytes[start, end)` as UTF-8; malformed sequences become U+FFFD rather than throwing. */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_STRING_BYTES) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i] as number;
      if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}
