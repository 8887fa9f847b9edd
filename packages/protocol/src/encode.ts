/** Encoding a {@link Frame} into its wire bytes. */
import { RiffError } from "@riff/core";
import {
  FIXED_HEADER_BYTES,
  LENGTH_PREFIX_BYTES,
  MAX_U16,
  MAX_U32,
  MAX_U8,
  type Frame,
} from "./frame.js";
import { utf8Length, writeUtf8 } from "./utf8.js";

/** Per header entry: u16 nameLength + u32 valueLength. */
const ENTRY_OVERHEAD_BYTES = 2 + 4;

/**
 * Gives the room for one frame: an array of exactly `bytes`, whose contents may be anything
 * (the encoder writes every byte). Node callers pass one that cuts small frames from Node's
 * Buffer pool (runtime's `frameBytes`): a typed array of its own per frame is a malloc'd backing
 * store freed only when a collection finds it dead, and with a frame each way per call a
 * replica's malloc heap grew to 17 MiB and on, where the pool keeps it under 2 MiB
 * (docs/performance.md, "Memory"). This package stays free of Node, so the default is a new
 * array.
 */
export type FrameAllocator = (bytes: number) => Uint8Array;

const newArray: FrameAllocator = (bytes) => new Uint8Array(bytes);

/**
 * Encodes a frame into one new buffer: length prefix, type, id, headers, payload.
 *
 * Sizes are measured first so the output is allocated once and written in place; a frame with
 * no headers skips the header pass entirely, as most stream frames have none.
 * Header names are written as given: {@link Headers} keys are lower-case by contract.
 *
 * @throws RiffError `RIFF_PROTOCOL_ERROR` if a field does not fit its wire width (type > u8,
 *   id > u32, more than 65535 header entries, a name over 65535 bytes, a frame over 4 GiB).
 */
export function encodeFrame(frame: Frame): Uint8Array {
  return encodeFrameWith(frame, newArray);
}

/** {@link encodeFrame} into the room `allocate` gives (a separate name: `frames.map(encodeFrame)` must not pass an index as one). */
export function encodeFrameWith(frame: Frame, allocate: FrameAllocator): Uint8Array {
  const { type, id, headers, payload } = frame;
  if (!Number.isInteger(type) || type < 0 || type > MAX_U8) {
    throw new RiffError("RIFF_PROTOCOL_ERROR", `frame type ${type} is not a u8`);
  }
  if (!Number.isInteger(id) || id < 0 || id > MAX_U32) {
    throw new RiffError("RIFF_PROTOCOL_ERROR", `frame id ${id} is not a u32`);
  }

  const names = Object.keys(headers);
  let length = FIXED_HEADER_BYTES + payload.length;
  let entryCount = 0;
  // Byte lengths of each name and value, in write order, so the write pass does not re-measure.
  let sizes: number[] | undefined;
  if (names.length > 0) {
    sizes = [];
    for (const name of names) {
      const values = headers[name] ?? [];
      if (values.length === 0) continue;
      const nameBytes = utf8Length(name);
      if (nameBytes > MAX_U16) {
        throw tooLarge(`header name is ${nameBytes} bytes; the limit is ${MAX_U16}`);
      }
      for (const value of values) {
        const valueBytes = utf8Length(value);
        sizes.push(nameBytes, valueBytes);
        length += ENTRY_OVERHEAD_BYTES + nameBytes + valueBytes;
        entryCount++;
      }
    }
    if (entryCount > MAX_U16) {
      throw tooLarge(`frame has ${entryCount} header entries; the limit is ${MAX_U16}`);
    }
  }
  if (length > MAX_U32) {
    throw tooLarge(`frame is ${length} bytes; the format's limit is ${MAX_U32}`);
  }

  const out = allocate(LENGTH_PREFIX_BYTES + length);
  let o = writeU32(out, 0, length);
  out[o++] = type;
  o = writeU32(out, o, id);
  out[o++] = entryCount >>> 8;
  out[o++] = entryCount & 0xff;

  if (sizes !== undefined && entryCount > 0) {
    let s = 0;
    for (const name of names) {
      const values = headers[name] ?? [];
      for (const value of values) {
        const nameBytes = sizes[s++] as number;
        const valueBytes = sizes[s++] as number;
        out[o++] = nameBytes >>> 8;
        out[o++] = nameBytes & 0xff;
        o = writeUtf8(name, nameBytes, out, o);
        o = writeU32(out, o, valueBytes);
        o = writeUtf8(value, valueBytes, out, o);
      }
    }
  }

  out.set(payload, o);
  return out;
}

function tooLarge(message: string): RiffError {
  return new RiffError("RIFF_PROTOCOL_ERROR", message);
}

function writeU32(out: Uint8Array, offset: number, value: number): number {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
  return offset + 4;
}
