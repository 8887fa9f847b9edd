/** The JSON body of ERROR and INIT_FAILED frames. */

/**
 * An error as it crosses the wire: a user function's failure or a replica's failure to start.
 * `code` steers what the daemon does (retry or not, which HTTP status).
 */
export interface WireError {
  /** The error's class name in the replica's language, e.g. `TypeError`, `NonRetriableError`. */
  name?: string;
  /** A stable code, e.g. `RIFF_FUNCTION_ERROR`. */
  code: string;
  message: string;
  /** The replica-side stack trace, as text. */
  stack?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** Encodes an error body as UTF-8 JSON with only the fields `name`, `code`, `message`, `stack`. */
export function encodeError(err: WireError): Uint8Array {
  // Only the documented fields: an Error object passed in must not leak its other properties.
  const body: WireError = { code: err.code, message: err.message };
  if (err.name !== undefined) body.name = err.name;
  if (err.stack !== undefined) body.stack = err.stack;
  return encoder.encode(JSON.stringify(body));
}

/**
 * Decodes an error body. Never throws: a replica that fails badly enough to send a bad body is
 * exactly when the daemon needs something to report, so anything unreadable becomes a
 * `RIFF_PROTOCOL_ERROR` whose message is the raw text.
 */
export function decodeError(payload: Uint8Array): WireError {
  const text = decoder.decode(payload);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { code: "RIFF_PROTOCOL_ERROR", message: text === "" ? "empty error body" : text };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { code: "RIFF_PROTOCOL_ERROR", message: text };
  }
  const fields = parsed as Record<string, unknown>;
  const err: WireError = {
    code:
      typeof fields.code === "string" && fields.code !== "" ? fields.code : "RIFF_PROTOCOL_ERROR",
    message: typeof fields.message === "string" ? fields.message : text,
  };
  if (typeof fields.name === "string") err.name = fields.name;
  if (typeof fields.stack === "string") err.stack = fields.stack;
  return err;
}
