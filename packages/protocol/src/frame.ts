/**
 * The frame: the unit the daemon and a function replica exchange over the replica's socket.
 * See docs/protocol.md for the byte layout, who sends what, and the lifecycle.
 */
import type { Headers } from "@riff/core";

/**
 * Frame types. Explicit numbers, because they are the wire format that the Python and Java
 * shims hard-code: renumbering one is a protocol break.
 */
export const FrameType = {
  /** replica -> daemon, id 0: the function is loaded. May say `riff-shape: request-reply|stream`. */
  READY: 1,
  /** replica -> daemon, id 0: loading failed; payload is a {@link WireError}. Then it exits. */
  INIT_FAILED: 2,
  /** daemon -> replica: one request message, headers plus payload. */
  INVOKE: 3,
  /** replica -> daemon, same id as the INVOKE: the reply message. */
  REPLY: 4,
  /** replica -> daemon, same id as the INVOKE or stream: failed; payload is a {@link WireError}. */
  ERROR: 5,
  /** daemon -> replica: opens a stream with a new id. */
  STREAM_OPEN: 6,
  /** daemon -> replica: one input message on an open stream. */
  STREAM_INPUT: 7,
  /** replica -> daemon: one output message on an open stream. */
  STREAM_OUTPUT: 8,
  /** either way: the sender will send nothing more on this stream id. */
  STREAM_END: 9,
  /** daemon -> replica, id 0: stop taking work, finish in-flight work, run destroy hook, exit. */
  SHUTDOWN: 10,
  /**
   * daemon -> replica, id 0, to a pre-started generic replica (warm pool) that reported READY
   * with `riff-pool: ready`: become this function. Headers: `riff-dir` (working directory),
   * `riff-exec` (the program a fresh replica would run: a pooled exec stub becomes it);
   * payload: the JSON object of the function's environment (RIFF_FUNCTION_ARTIFACT, ...). The
   * replica answers READY or INIT_FAILED as after a normal start.
   */
  LOAD: 11,
} as const;

/** One of the known frame types. A parsed {@link Frame} may still carry any other u8. */
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

/**
 * One decoded frame. `type` is a plain number, not {@link FrameType}, because the parser passes
 * unknown types through: the consumer decides whether an unknown type is an error, so a newer
 * peer cannot crash an older one.
 */
export interface Frame {
  /** The frame type, a u8; normally a {@link FrameType}. */
  type: number;
  /** The request or stream id, a u32; 0 for frames about the replica itself. */
  id: number;
  /** Lower-case names to values; a multi-valued header has several values. */
  headers: Headers;
  /** Opaque bytes; what they mean is said by the `content-type` header. */
  payload: Uint8Array;
}

/** The default cap on a declared frame length (64 MiB): bounds what a broken peer makes us allocate. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Bytes of the length prefix, which counts everything after itself. */
export const LENGTH_PREFIX_BYTES = 4;

/** Bytes between the length prefix and the first header: u8 type, u32 id, u16 headerCount. */
export const FIXED_HEADER_BYTES = 1 + 4 + 2;

/** The largest value of each integer field, for validation on encode. */
export const MAX_U8 = 0xff;
export const MAX_U16 = 0xffff;
export const MAX_U32 = 0xffff_ffff;
