import { encodeFrameWith, type Frame, type FrameAllocator } from "@riff/protocol";

/** Cuts frames under 4 KiB from Node's shared 8 KiB Buffer pool; larger ones get their own. */
const pooled: FrameAllocator = (bytes) => Buffer.allocUnsafe(bytes);

/**
 * A frame's bytes for a socket write, from Node's Buffer pool instead of an array of its own per
 * frame, which kept a replica's malloc heap growing under load (see `FrameAllocator` in
 * @riff/protocol). Write them and let them go: bytes that are kept keep their 8 KiB slab alive.
 */
export function frameBytes(frame: Frame): Uint8Array {
  return encodeFrameWith(frame, pooled);
}
