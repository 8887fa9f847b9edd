import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderNames } from "@riff/core";
import { sendJson } from "@riff/gateway";
import type { CallerRegistry } from "@riff/runtime";

/**
 * A call through a replica's own gateway path (`/r/TOKEN/messages/...`, its RIFF_GATEWAY_URL):
 * the path is cut back to riff's, and the message carries the hop count of what that replica
 * handles, whatever the caller sent, so a loop through the gateway meets the hop limit. Returns
 * false when it answered (a path no running replica has, or one that is not a publish).
 */
/** Requests that came through a replica's own path: riff's own functions, which need no API key. */
export const replicaRequests = new WeakSet<IncomingMessage>();

export function fromReplica(req: IncomingMessage, res: ServerResponse, callers: CallerRegistry): boolean {
  const url = req.url ?? "";
  if (!url.startsWith("/r/")) return true;
  const slash = url.indexOf("/", 3);
  const rest = slash === -1 ? "/" : url.slice(slash);
  const hops = callers.hopsOf(url.slice(3, slash === -1 ? undefined : slash));
  if (hops === undefined || !(rest.startsWith("/messages/") || rest.startsWith("/requests/"))) {
    sendJson(res, 404, {
      error: {
        code: "RIFF_NOT_FOUND",
        message: hops === undefined ? "no running replica has this gateway path" : `a replica's gateway path takes /messages/TOPIC and /requests/TOPIC, not ${rest}`,
        hint: "publish through the RIFF_GATEWAY_URL of the replica that runs, or through riff's own address",
      },
    });
    return false;
  }
  req.url = rest;
  replicaRequests.add(req);
  // Whatever count the caller sent is replaced, in both views of the headers.
  req.headers[HeaderNames.hops] = String(hops);
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() !== HeaderNames.hops) raw.push(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  req.rawHeaders = [...raw, HeaderNames.hops, String(hops)];
  return true;
}
