import { isUtf8 } from "node:buffer";
import { isSupportedType, mediaType, negotiate, type SupportedType } from "../../content.js";

/** A failure the caller caused; it becomes an ERROR frame with this stable code. */
export class ContentError extends Error {
  constructor(
    readonly code: "RIFF_CONTENT_TYPE_UNSUPPORTED" | "RIFF_ACCEPT_UNSUPPORTED" | "RIFF_INVALID_ARGUMENT",
    message: string,
  ) {
    super(message);
  }
}

/** Turns a payload into the value a Node function receives, by Content-Type. */
export function decodePayload(contentType: string | undefined, payload: Buffer): unknown {
  const type = mediaType(contentType);
  switch (type) {
    case "text/plain":
      return text(type, payload);
    case "application/json":
      try {
        return JSON.parse(text(type, payload)) as unknown;
      } catch (err) {
        if (err instanceof ContentError) throw err;
        throw new ContentError("RIFF_INVALID_ARGUMENT", `payload is not valid JSON: ${(err as Error).message}`);
      }
    case "application/octet-stream":
      return payload;
    case "application/x-www-form-urlencoded":
      return Object.fromEntries(new URLSearchParams(text(type, payload)));
    default:
      throw new ContentError(
        "RIFF_CONTENT_TYPE_UNSUPPORTED",
        `content type '${type}' is not supported; send text/plain, application/json, application/octet-stream or application/x-www-form-urlencoded`,
      );
  }
}

/**
 * The payload as text. riff's text is UTF-8 (a charset parameter does not change that): bytes
 * that are not would reach the function as U+FFFD, silently changed.
 */
function text(type: string, payload: Buffer): string {
  if (!isUtf8(payload)) {
    throw new ContentError("RIFF_INVALID_ARGUMENT", `payload is not UTF-8 text (Content-Type ${type}); send UTF-8, or application/octet-stream for bytes`);
  }
  return payload.toString("utf8");
}

/** Checks, before the function runs, that some reply type satisfies Accept. */
export function checkAccept(accept: string | undefined, contentType: string | undefined): void {
  const type = mediaType(contentType);
  const preferred: SupportedType = isSupportedType(type) ? type : "text/plain";
  if (negotiate(accept, preferred) === undefined) {
    throw new ContentError(
      "RIFF_ACCEPT_UNSUPPORTED",
      `no supported reply type satisfies Accept '${accept ?? ""}'; accept text/plain, application/json, application/octet-stream or application/x-www-form-urlencoded`,
    );
  }
}

function isStructured(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Buffer.isBuffer(value) && !(value instanceof Uint8Array);
}

/**
 * Encodes a function's result for the caller. Without Accept, the reply has the request's type,
 * except that objects become JSON and buffers stay bytes, which is what a caller expects.
 */
export function encodeResult(
  value: unknown,
  accept: string | undefined,
  contentType: string | undefined,
): { type: SupportedType; body: Buffer } {
  const requestType = mediaType(contentType);
  let preferred: SupportedType = isSupportedType(requestType) ? requestType : "text/plain";
  if (accept === undefined || accept === "") {
    if (isStructured(value)) preferred = "application/json";
    else if (value instanceof Uint8Array) preferred = "application/octet-stream";
  }
  const type = negotiate(accept, preferred);
  if (type === undefined) {
    throw new ContentError("RIFF_ACCEPT_UNSUPPORTED", `no supported reply type satisfies Accept '${accept ?? ""}'`);
  }
  return { type, body: toBytes(value, type) };
}

function toBytes(value: unknown, type: SupportedType): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  if (value instanceof Uint8Array && type !== "application/json") {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  switch (type) {
    case "application/json":
      return Buffer.from(JSON.stringify(value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value));
    case "application/x-www-form-urlencoded":
      if (isStructured(value)) {
        return Buffer.from(new URLSearchParams(value as Record<string, string>).toString());
      }
      return Buffer.from(String(value));
    default:
      return Buffer.from(isStructured(value) ? JSON.stringify(value) : String(value));
  }
}
