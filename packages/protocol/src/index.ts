/**
 * `@riff/protocol`: the wire format between the daemon and a function replica. Pure: no IO and
 * nothing from `node:`, so the same code runs in the daemon and in the Node shim. The format
 * itself is specified in docs/protocol.md.
 */
export { FrameType, DEFAULT_MAX_FRAME_BYTES, type Frame } from "./frame.js";
export { encodeFrame } from "./encode.js";
export { FrameParser, type FrameParserOptions } from "./parser.js";
export { encodeError, decodeError, type WireError } from "./wire-error.js";
