import type { IncomingMessage, ServerResponse } from "node:http";
import { RiffError, toRiffError } from "@riff/core";

/**
 * Writes `{error: {code, message, hint?}}` with the code's status; with `stack`, riff's own
 * failures carry their stack (the authenticated admin API only).
 */
export function sendError(res: ServerResponse, error: unknown, options: { stack?: boolean } = {}): void {
  const err = toRiffError(error);
  const body = JSON.stringify({ error: err.toJSON(options) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Writes a JSON body. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Reads a request body, failing with RIFF_MESSAGE_TOO_LARGE (413) past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new RiffError("RIFF_MESSAGE_TOO_LARGE", `the body is larger than the limit of ${limit} bytes`, {
      hint: "send a smaller message, or raise the limit with `riff system start --max-body-bytes`",
    });
  const declared = Number(req.headers["content-length"] ?? -1);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    // The client broke off or sent a malformed body (it got its 400 from the server's
    // clientError): its mistake, not riff's, and not worth an error in riff's log.
    req.on("error", (err) =>
      reject(new RiffError("RIFF_BAD_REQUEST", `the request body did not arrive whole: ${err.message}`, { cause: err, hint: "send the whole body, with a Content-Length or valid chunks" })),
    );
  });
}
