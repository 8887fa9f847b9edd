import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { gzipSync } from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";

/** One file the dashboard serves under `/ui/assets/`. */
interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

/**
 * Where each served file comes from: htmx, its SSE extension and uPlot as npm installed them
 * (resolved at run time, so an `npm update` within the pinned versions needs no copy step),
 * and the dashboard's own small script and style sheet from its `static/` folder.
 */
const FILES: Record<string, { from: string; type: string }> = {
  "htmx.min.js": { from: "htmx.org/dist/htmx.min.js", type: "text/javascript" },
  "sse.min.js": { from: "htmx-ext-sse/dist/sse.min.js", type: "text/javascript" },
  "uPlot.iife.min.js": { from: "uplot/dist/uPlot.iife.min.js", type: "text/javascript" },
  "uPlot.min.css": { from: "uplot/dist/uPlot.min.css", type: "text/css" },
  "dashboard.js": { from: "../static/dashboard.js", type: "text/javascript" },
  "dashboard.css": { from: "../static/dashboard.css", type: "text/css" },
  "favicon.svg": { from: "../static/favicon.svg", type: "image/svg+xml" },
};

/** The scripts every page loads, in order; the function page adds uPlot and its plots. */
export const PAGE_SCRIPTS = ["htmx.min.js", "sse.min.js", "dashboard.js"] as const;
export const PLOT_SCRIPTS = ["uPlot.iife.min.js"] as const;

/** Loads every asset once (a missing package fails the daemon's start, not a page). */
export function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const out = new Map<string, Asset>();
  for (const [name, { from, type }] of Object.entries(FILES)) {
    const path = from.startsWith("../") ? new URL(from, import.meta.url) : require.resolve(from);
    const body = readFileSync(path);
    out.set(name, { type, body, gzip: gzipSync(body), etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
  }
  return out;
}

/** Answers `GET /ui/assets/NAME`; false when there is no such asset. */
export function serveAsset(assets: Map<string, Asset>, name: string, req: IncomingMessage, res: ServerResponse): boolean {
  const a = assets.get(name);
  if (a === undefined) return false;
  const headers: Record<string, string> = { "content-type": `${a.type}; charset=utf-8`, etag: a.etag, "cache-control": "no-cache", vary: "accept-encoding" };
  if (req.headers["if-none-match"] === a.etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const body = gzip ? a.gzip : a.body;
  res.writeHead(200, { ...headers, ...(gzip ? { "content-encoding": "gzip" } : {}), "content-length": String(body.length) });
  res.end(body);
  return true;
}
