import { RiffError, type Headers } from "@riff/core";
import { isSupportedType, mediaType, negotiate, SUPPORTED_TYPES, type SupportedType } from "../content.js";

const SUPPORTED_LIST = SUPPORTED_TYPES.join(", ");

/**
 * The reply type for a message whose payload a process handles as raw bytes (command, line
 * replicas): the request's type as Accept allows. The payload is not converted, so the process
 * must write what it was given in kind. Rejects, before anything runs, a Content-Type or an
 * Accept that riff does not support, with the same codes as the Node shim.
 */
export function replyTypeFor(headers: Headers): SupportedType {
  const type = mediaType(headers["content-type"]?.[0]);
  if (!isSupportedType(type)) {
    throw new RiffError(
      "RIFF_CONTENT_TYPE_UNSUPPORTED",
      `content type '${type}' is not supported; send ${SUPPORTED_LIST}`,
    );
  }
  const accept = headers["accept"]?.[0];
  const reply = negotiate(accept, type);
  if (reply === undefined) {
    throw new RiffError(
      "RIFF_ACCEPT_UNSUPPORTED",
      `no supported reply type satisfies Accept '${accept ?? ""}'; accept ${SUPPORTED_LIST}`,
    );
  }
  return reply;
}

/**
 * What a byte-level replica checks before it takes a message: that it is ready, and that the
 * message's types are supported. Returns the reply's Content-Type.
 */
export function admitMessage(replica: { id: string; state: string }, headers: Headers): SupportedType {
  if (replica.state !== "ready") throw new RiffError("RIFF_SHUTTING_DOWN", `replica ${replica.id} is ${replica.state}`);
  return replyTypeFor(headers);
}
