/** The brand the Node invoker looks for; a plain `{headers, payload}` object stays plain data. */
const MESSAGE_BRAND = Symbol.for("riff.message");

/** A result that sets the output message's headers as well as its payload. */
export interface OutgoingMessage<T = unknown> {
  readonly [MESSAGE_BRAND]: true;
  readonly payload: T;
  readonly headers: Readonly<Record<string, string | string[]>>;
}

/**
 * Wraps a function's result with headers for the output message, e.g.
 * `return message(total, { "x-tenant": tenant, "content-type": "application/json" })`.
 * A `content-type` here decides how the payload is encoded.
 */
export function message<T>(payload: T, headers: Record<string, string | string[]> = {}): OutgoingMessage<T> {
  return { [MESSAGE_BRAND]: true, payload, headers };
}
