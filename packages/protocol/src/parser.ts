/** A pure, byte-fed parser: bytes in from any transport, whole frames out. */
import { RiffError, type Headers } from "@riff/core";
import {
  DEFAULT_MAX_FRAME_BYTES,
  FIXED_HEADER_BYTES,
  LENGTH_PREFIX_BYTES,
  type Frame,
} from "./frame.js";
import { readUtf8 } from "./utf8.js";

/** Options for a {@link FrameParser}. */
export interface FrameParserOptions {
  /**
   * The largest declared frame length (the u32 length field) accepted. A larger one is a protocol
   * error: the peer is broken or not speaking this protocol, and we must not allocate for it.
   * @default DEFAULT_MAX_FRAME_BYTES (64 MiB)
   */
  maxFrameBytes?: number;
}

/**
 * Turns a byte stream into {@link Frame}s. Feed it chunks of any size, split anywhere; each
 * {@link FrameParser.push} returns the frames completed so far.
 *
 * Copies are kept to the minimum: a frame wholly inside one chunk is decoded in place and its
 * payload is a view of that chunk (so callers must not reuse a chunk's memory after pushing it);
 * a frame that spans chunks is assembled once into a buffer of its exact size, which becomes
 * the frame's alone. Nothing is ever concatenated per push.
 *
 * Unknown frame types are returned as they are; rejecting them is the consumer's choice.
 * After a push throws, the stream is out of sync for good, so every later push throws the same
 * error: close the connection.
 */
export class FrameParser {
  readonly #maxFrameBytes: number;
  /** The length prefix of the next frame, while fewer than 4 of its bytes have arrived. */
  readonly #prefix = new Uint8Array(LENGTH_PREFIX_BYTES);
  #prefixFilled = 0;
  /** The body (type .. end of payload) of a frame spanning chunks, and how much has arrived. */
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #failure: RiffError | undefined;

  constructor(options: FrameParserOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < FIXED_HEADER_BYTES) {
      throw new RiffError(
        "RIFF_INVALID_ARGUMENT",
        `maxFrameBytes must be an integer >= ${FIXED_HEADER_BYTES}, got ${max}`,
      );
    }
    this.#maxFrameBytes = max;
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    // Once a body is under way its 4-byte prefix has been consumed too.
    return this.#body === undefined ? this.#prefixFilled : LENGTH_PREFIX_BYTES + this.#bodyFilled;
  }

  /**
   * Consumes `chunk` and returns every frame it completes, in order (often none, often several).
   * @throws RiffError `RIFF_PROTOCOL_ERROR` on a length over the maximum or a malformed frame.
   */
  push(chunk: Uint8Array): Frame[] {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      return this.#consume(chunk);
    } catch (err) {
      this.#failure =
        err instanceof RiffError
          ? err
          : new RiffError("RIFF_PROTOCOL_ERROR", "frame parser failed", { cause: err });
      throw this.#failure;
    }
  }

  #consume(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      const body = this.#body;
      if (body !== undefined) {
        const n = Math.min(body.length - this.#bodyFilled, end - i);
        body.set(chunk.subarray(i, i + n), this.#bodyFilled);
        this.#bodyFilled += n;
        i += n;
        if (this.#bodyFilled === body.length) {
          this.#body = undefined;
          this.#bodyFilled = 0;
          frames.push(decodeBody(body, 0, body.length));
        }
      } else if (this.#prefixFilled > 0 || end - i < LENGTH_PREFIX_BYTES) {
        // A length prefix split across chunks: collect its bytes one by one (at most 4).
        this.#prefix[this.#prefixFilled++] = chunk[i++] as number;
        if (this.#prefixFilled === LENGTH_PREFIX_BYTES) {
          this.#prefixFilled = 0;
          this.#startBody(readU32(this.#prefix, 0));
        }
      } else {
        // Fast path: the prefix is here; if the whole body is too, decode it in place.
        const length = this.#checkLength(readU32(chunk, i));
        const start = i + LENGTH_PREFIX_BYTES;
        if (end - start >= length) {
          frames.push(decodeBody(chunk, start, start + length));
          i = start + length;
        } else {
          this.#startBody(length);
          i = start;
        }
      }
    }
    return frames;
  }

  #startBody(declared: number): void {
    this.#body = new Uint8Array(this.#checkLength(declared));
    this.#bodyFilled = 0;
  }

  #checkLength(length: number): number {
    if (length > this.#maxFrameBytes) {
      throw new RiffError(
        "RIFF_PROTOCOL_ERROR",
        `frame declares ${length} bytes; the maximum is ${this.#maxFrameBytes}`,
      );
    }
    if (length < FIXED_HEADER_BYTES) {
      throw new RiffError(
        "RIFF_PROTOCOL_ERROR",
        `frame declares ${length} bytes; a frame is at least ${FIXED_HEADER_BYTES}`,
      );
    }
    return length;
  }
}

/** Decodes one frame body (type .. end of payload) occupying `bytes[start, end)`. */
function decodeBody(bytes: Uint8Array, start: number, end: number): Frame {
  const type = bytes[start] as number;
  const id = readU32(bytes, start + 1);
  const count = readU16(bytes, start + 5);
  let o = start + FIXED_HEADER_BYTES;
  // Null prototype: a peer sending a header named `__proto__` must not reach Object.prototype.
  const headers: Headers = Object.create(null) as Headers;
  for (let h = 0; h < count; h++) {
    if (o + 2 > end) throw malformed("header name length", h);
    const nameEnd = o + 2 + readU16(bytes, o);
    if (nameEnd + 4 > end) throw malformed("header name", h);
    const name = readName(bytes, o + 2, nameEnd);
    const valueEnd = nameEnd + 4 + readU32(bytes, nameEnd);
    if (valueEnd > end) throw malformed("header value", h);
    const value = readUtf8(bytes, nameEnd + 4, valueEnd);
    const values = headers[name];
    if (values === undefined) headers[name] = [value];
    else values.push(value);
    o = valueEnd;
  }
  return { type, id, headers, payload: bytes.subarray(o, end) };
}

/**
 * Header names decoded lately, by a hash of their bytes. A stream's frames carry the same few
 * names over and over; handing back the string made last time skips building it byte by byte
 * and hashing that new string again when it becomes a key of `headers`, which was most of a
 * frame's decoding (docs/performance.md). A slot holds the last name that hashed to it.
 */
const NAME_SLOTS = 256;
const MAX_CACHED_NAME_BYTES = 64;
const slotBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(NAME_SLOTS).fill(undefined);
const slotNames: string[] = new Array<string>(NAME_SLOTS).fill("");

/** The name at `bytes[start, end)`, from the cache when these bytes were decoded lately. */
function readName(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > MAX_CACHED_NAME_BYTES) return decodeName(bytes, start, end);
  let hash = length;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  const slot = (hash >>> 0) % NAME_SLOTS;
  const known = slotBytes[slot];
  if (known !== undefined && known.length === length) {
    let i = 0;
    while (i < length && known[i] === bytes[start + i]) i++;
    if (i === length) return slotNames[slot] as string;
  }
  const name = decodeName(bytes, start, end);
  // A copy: Buffer's slice() is a view, which would keep the whole read chunk alive.
  slotBytes[slot] = Uint8Array.prototype.slice.call(bytes, start, end);
  slotNames[slot] = name;
  return name;
}

/** Names should be lower-case on the wire; lower-casing here still accepts a shim's `Content-Type`. */
function decodeName(bytes: Uint8Array, start: number, end: number): string {
  const name = readUtf8(bytes, start, end);
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if ((b >= 0x41 && b <= 0x5a) || b >= 0x80) return name.toLowerCase();
  }
  return name;
}

function malformed(part: string, index: number): RiffError {
  return new RiffError(
    "RIFF_PROTOCOL_ERROR",
    `malformed frame: ${part} of header ${index} runs past the frame's end`,
  );
}

function readU32(b: Uint8Array, o: number): number {
  const hi = ((b[o] as number) << 24) | ((b[o + 1] as number) << 16);
  return (hi | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

function readU16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}
