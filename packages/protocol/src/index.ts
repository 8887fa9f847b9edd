/**
 * `@riff/protocol`: the wire format between the daemon and a function replica, and the mapping
 * of CloudEvents 1.0 to riff's messages. Pure: no IO and nothing from `node:`, so the same code
 * runs in the daemon and in the Node shim. The frame format is specified in docs/protocol.md,
 * the CloudEvents mapping in docs/cloudevents.md.
 */
export { FrameType, DEFAULT_MAX_FRAME_BYTES, type Frame } from "./frame.js";
export { encodeFrame, encodeFrameWith, type FrameAllocator } from "./encode.js";
export { FrameParser, type FrameParserOptions } from "./parser.js";
export { encodeError, decodeError, type WireError } from "./wire-error.js";
export {
  CE_HEADER_PREFIX,
  CE_SPECVERSION,
  CeHeaders,
  RIFF_MESSAGE_TYPE,
  addPlainMessageAttributes,
  RIFF_REPLY_TYPE,
  binaryEventHeaders,
  decodeHeaderValue,
  encodeHeaderValue,
  invalidEvent,
} from "./cloudevents.js";
export { CE_BATCH_TYPE, CE_STRUCTURED_TYPE, eventFormatOf, parseEventBatch, parseStructuredEvent, type BinaryEvent, type EventFormat } from "./cloudevents-json.js";
export { nextEventHeaders, type Hop } from "./cloudevents-hop.js";
