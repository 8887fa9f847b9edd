import type { IncomingMessage, ServerResponse } from "node:http";
import { RiffError, toRiffError, type Logger } from "@riff/core";
import { loadAssets, serveAsset } from "./assets.js";
import { errorPage, loginPage } from "./layout.js";
import { decodePart, renderPage } from "./pages.js";
import { oneOf } from "./query.js";
import { TickData, WATCHES } from "./regions.js";
import { checkSameOrigin, readForm } from "./requests.js";
import { SeriesStore, type FunctionSeries } from "./series.js";
import { cookieValue, DashboardSessions, SESSION_COOKIE } from "./sessions.js";
import type { DashboardSources } from "./sources.js";
import { LiveStream } from "./stream.js";

/** How often the series close a point and the streams get their updates. */
export const TICK_MS = 1000;

/** What the dashboard needs from the daemon. */
export interface DashboardOptions {
  sources: DashboardSources;
  /** The admin token: it signs the session cookies. */
  secret: string;
  /** The admin API's `Host` check (against DNS rebinding), applied to `/ui` too. */
  checkHost: (host: string | undefined) => void;
  logger: Logger;
}

/** Sent with every page: only this origin's scripts, styles and connections; never framed. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  "x-content-type-options": "nosniff",
  // Not no-referrer: with it the browser sends `Origin: null` on form posts, which the same-origin check must refuse.
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
};

/**
 * The web dashboard at `/ui`: server-rendered pages, one live stream per tab, and the series
 * it keeps from the telemetry. Reached only with a session from a one-time `riff dashboard`
 * link; the admin API never accepts its cookie.
 */
export class Dashboard {
  readonly series = new SeriesStore();
  readonly sessions: DashboardSessions;
  private readonly assets = loadAssets();
  private readonly streams = new Set<LiveStream>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private ticking = false;

  constructor(private readonly o: DashboardOptions) {
    this.sessions = new DashboardSessions({ secret: o.secret });
  }

  /** Starts taking telemetry and ticking. */
  start(): void {
    this.unsubscribe = this.o.sources.telemetry.subscribe(this.series.sink);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Closes every stream and stops ticking. */
  stop(): void {
    clearInterval(this.timer);
    this.unsubscribe?.();
    for (const s of this.streams) s.close();
    this.streams.clear();
  }

  /** A one-time login link, for `POST /api/v1/dashboard/login` (`riff dashboard`). */
  loginLink(baseUrl: string): { url: string; path: string; expiresAt: string } {
    const { token, expiresAt } = this.sessions.issueLink();
    const path = `/ui/login?token=${encodeURIComponent(token)}`;
    return { url: `${baseUrl}${path}`, path, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** One function's series; RIFF_FUNCTION_NOT_FOUND for a function that does not exist. */
  async seriesOf(fn: string): Promise<FunctionSeries> {
    if ((await this.o.sources.functions.get(fn)) === undefined) {
      throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${fn}' does not exist`, { hint: "`riff list` shows the functions there are", details: { field: "function" } });
    }
    return this.series.get(fn);
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const views = await this.o.sources.functions.list();
      const samples = this.series.tick(Date.now(), new Map(views.map((v) => [v.name, v.ready])));
      for (const name of this.series.names()) if (!views.some((v) => v.name === name)) this.series.forget(name);
      const d = new TickData(this.o.sources, this.series, views);
      await Promise.all([...this.streams].map((s) => s.update(d, samples)));
    } catch (err) {
      this.o.logger.warn("dashboard tick failed", { err: String(err) });
    } finally {
      this.ticking = false;
    }
  }

  /** Handles `/` (to `/ui/`) and everything under `/ui`; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? "/", "http://riff");
    if (url.pathname === "/" && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(302, { location: "/ui/" });
      res.end();
      return true;
    }
    if (url.pathname !== "/ui" && !url.pathname.startsWith("/ui/")) return false;
    this.serve(req, res, url).catch((err: unknown) => this.fail(req, res, err));
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.o.checkHost(req.headers.host);
    const path = url.pathname.slice("/ui".length);
    if (path.startsWith("/assets/") && req.method === "GET") {
      if (!serveAsset(this.assets, path.slice("/assets/".length), req, res)) throw new RiffError("RIFF_NOT_FOUND", `no asset ${path}`);
      return;
    }
    if (path === "/login" && req.method === "GET") return this.login(res, url.searchParams.get("token"));
    if (!this.sessions.valid(cookieValue(req.headers.cookie, SESSION_COOKIE))) {
      if (req.method === "GET" && path !== "/stream" && path !== "/series") {
        res.writeHead(303, { location: "/ui/login", "cache-control": "no-store" });
        res.end();
        return;
      }
      throw new RiffError("RIFF_UNAUTHORIZED", "the dashboard needs a session", { hint: "run `riff dashboard` to log in" });
    }
    if (req.method === "POST") {
      checkSameOrigin(req);
      return this.post(req, res, path);
    }
    if (req.method !== "GET") throw new RiffError("RIFF_METHOD_NOT_ALLOWED", `${req.method ?? "?"} is not allowed on ${url.pathname}`);
    if (path === "/stream") return this.stream(req, res, url.searchParams);
    const out = await renderPage(path, url.searchParams, this.o.sources, this.series);
    if ("json" in out) {
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(out.json));
      return;
    }
    this.sendHtml(res, 200, out.text);
  }

  private login(res: ServerResponse, token: string | null): void {
    if (token === null) return this.sendHtml(res, 200, loginPage(undefined).text);
    const session = this.sessions.redeem(token);
    if (session === undefined) {
      return this.sendHtml(res, 401, loginPage("This login link is not valid: it was used already, or it expired. Get a new one with `riff dashboard`.").text);
    }
    res.writeHead(303, {
      location: "/ui/",
      "set-cookie": `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/ui; Max-Age=${Math.floor(this.sessions.sessionTtlMs / 1000)}`,
      "cache-control": "no-store",
    });
    res.end();
  }

  private async post(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/dead-letters\/([^/]+)\/(redrive|purge)$/.exec(path);
    if (m === null) throw new RiffError("RIFF_NOT_FOUND", `nothing to post to at /ui${path}`);
    const fn = decodePart(m[1] ?? "");
    const form = await readForm(req);
    let flash: string;
    if (m[2] === "redrive") {
      const r = await this.o.sources.deadLetters.redrive(fn);
      flash = `Redrove ${r.redriven} dead letter${r.redriven === 1 ? "" : "s"} of ${fn}${r.left > 0 ? `; ${r.left} kept back` : ""}.`;
    } else {
      if (form.get("confirm") !== fn) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", `type the function's name '${fn}' to confirm the purge`, { details: { field: "confirm" } });
      }
      flash = `Purged ${await this.o.sources.deadLetters.purge(fn)} dead letters of ${fn}.`;
    }
    res.writeHead(303, { location: `/ui/dead-letters?flash=${encodeURIComponent(flash)}` });
    res.end();
  }

  private async stream(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const watch = oneOf(query, "watch", WATCHES);
    const fn = query.get("function") ?? undefined;
    const topic = query.get("topic") ?? undefined;
    const logs = query.get("logs") ?? undefined;
    if (watch === "function" && fn === undefined) throw new RiffError("RIFF_INVALID_ARGUMENT", "query parameter 'function' is required with watch=function", { details: { field: "function" } });
    if (watch === "topic" && topic === undefined) throw new RiffError("RIFF_INVALID_ARGUMENT", "query parameter 'topic' is required with watch=topic", { details: { field: "topic" } });
    const s = new LiveStream(res, { watch, fn, topic, logs }, this.o.logger);
    this.streams.add(s);
    res.on("close", () => {
      this.streams.delete(s);
      s.close();
    });
    await s.followLogs(this.o.sources.logs.read.bind(this.o.sources.logs), this.o.sources.logs.follow.bind(this.o.sources.logs));
    // The first update at once: a tab that reconnects gets current data without waiting a tick.
    const views = await this.o.sources.functions.list();
    await s.update(new TickData(this.o.sources, this.series, views), new Map());
  }

  private sendHtml(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS });
    res.end(text);
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const err = toRiffError(error);
    if (err.kind === "system") this.o.logger.error("dashboard request failed", { err: String(error), stack: (error as Error).stack });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const wantsHtml = req.method === "GET" && /text\/html/.test(String(req.headers.accept ?? ""));
    if (wantsHtml) return this.sendHtml(res, err.status, errorPage(titleOf(err.status), err.message, err.hint, err.code).text);
    const body = JSON.stringify({ error: err.toJSON() });
    res.writeHead(err.status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
    res.end(body);
  }
}

function titleOf(status: number): string {
  if (status === 404) return "Not found";
  if (status === 401 || status === 403) return "Not allowed";
  if (status >= 500) return "riff failed";
  return "Bad request";
}
