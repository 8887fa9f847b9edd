import type { Headers } from "@riff/core";
import { decodePayload, encodeResult } from "./codec.js";
import { isBrandedMessage, type UserFunction } from "./function-module.js";

/** Headers that are riff's business on the wire, not the function's. */
const WIRE_ONLY = new Set(["riff-serial-key", "riff-timestamp"]);

/** The headers a function may see. */
export function visibleHeaders(headers: Headers): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers)) if (!WIRE_ONLY.has(k)) out[k] = v;
  return out;
}

/** Builds the function's argument from a frame, per `$argumentType`. */
export function argumentFor(fn: UserFunction, headers: Headers, payload: Uint8Array): unknown {
  const contentType = headers["content-type"]?.[0];
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  switch (fn.$argumentType ?? "payload") {
    case "headers":
      return visibleHeaders(headers);
    case "message": {
      const ts = Number(headers["riff-timestamp"]?.[0]);
      return { headers: visibleHeaders(headers), payload: decodePayload(contentType, body), timestamp: Number.isFinite(ts) ? ts : Date.now() };
    }
    default:
      return decodePayload(contentType, body);
  }
}

/** Encodes a result (or a message made with `message()`) as reply headers and payload. */
export function replyFor(result: unknown, accept: string | undefined, contentType: string | undefined): { headers: Headers; payload: Uint8Array } {
  let extra: Headers = {};
  let value = result;
  if (isBrandedMessage(result)) {
    value = result.payload;
    for (const [k, v] of Object.entries(result.headers)) extra[k.toLowerCase()] = Array.isArray(v) ? v : [v];
    // A message that names its own content type is sent as such.
    const own = extra["content-type"]?.[0];
    if (own !== undefined) accept = own;
    extra = { ...extra };
    delete extra["content-type"];
  }
  const { type, body } = encodeResult(value, accept, contentType);
  return { headers: { ...extra, "content-type": [type] }, payload: body };
}
