import type { IncomingMessage } from "node:http";
import { RiffError } from "@riff/core";

/** Largest form body the dashboard reads (a typed confirmation, nothing more). */
const MAX_FORM_BYTES = 16 * 1024;

/**
 * Refuses a POST another site's page made: the browser's `Origin` must be this very host (or,
 * without Origin, `Sec-Fetch-Site` must say same-origin). SameSite=Strict keeps the cookie from
 * such requests already; this is the second lock.
 */
export function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin !== undefined && host !== undefined) {
    try {
      if (new URL(origin).host === host) return;
    } catch {
      // a garbled Origin is refused below
    }
  } else if (req.headers["sec-fetch-site"] === "same-origin") return;
  throw new RiffError("RIFF_CROSS_ORIGIN", `the dashboard takes changes only from its own pages, not from origin '${String(origin ?? "unknown").slice(0, 100)}'`, {
    hint: "use the dashboard's own buttons, or the CLI (`riff dead-letters redrive NAME`)",
    details: { header: "Origin" },
  });
}

/** An `application/x-www-form-urlencoded` body. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new RiffError("RIFF_MESSAGE_TOO_LARGE", `the form is larger than ${MAX_FORM_BYTES} bytes`);
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
