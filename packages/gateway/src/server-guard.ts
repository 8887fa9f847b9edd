import type { IncomingMessage, Server, ServerOptions, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { RiffError, silentLogger, type Logger } from "@riff/core";
import { sendError } from "./http-util.js";

/** @default 10000 ms: how long a client may take to send its request's headers (slowloris). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** @default 120000 ms: how long a client may take to send a whole request, body included. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** @default 1024: open connections at once; past it, new ones are closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/**
 * How often Node looks for requests past their timeouts. Its default (30 s) would let a
 * slow client hold a connection for up to 30 s past `headersTimeout`.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** The limits of the one HTTP server of gateway and admin API. */
export interface ServerLimits {
  /** @default DEFAULT_HEADERS_TIMEOUT_MS */
  headersTimeoutMs?: number;
  /** @default DEFAULT_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number;
  /** @default DEFAULT_MAX_CONNECTIONS */
  maxConnections?: number;
}

/** {@link ServerLimits} with every default applied. */
export type ResolvedServerLimits = Required<ServerLimits>;

/** Applies the defaults; never mutates its input. */
export function resolveServerLimits(limits: ServerLimits = {}): ResolvedServerLimits {
  return {
    headersTimeoutMs: limits.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxConnections: limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  };
}

/** The `createServer` options that carry the timeouts (Node reads them only at creation). */
export function serverOptions(limits: ResolvedServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node wants requestTimeout >= headersTimeout (0 would turn it off).
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
    // Node would answer a bare 400 with no body; {@link refuseWithoutHost} answers in JSON.
    requireHostHeader: false,
  };
}

/** HTTP/1.1 requires a Host header (RFC 9112): answers 400 in JSON and returns true when it is missing. */
export function refuseWithoutHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersion === "1.0") return false;
  res.shouldKeepAlive = false;
  sendError(res, new RiffError("RIFF_BAD_REQUEST", "malformed HTTP request: an HTTP/1.1 request needs a Host header", {
    hint: "send Host: HOST:PORT, as every HTTP client does",
    details: { header: "Host" },
  }));
  return true;
}

/**
 * Caps connections and answers every request Node's parser refuses (bad request line, headers
 * too large, too slow) with riff's JSON error body and a code, instead of Node's bare status line.
 */
export function guardServer(server: Server, limits: ResolvedServerLimits, logger: Logger = silentLogger): void {
  server.maxConnections = limits.maxConnections;
  let warned = false;
  server.on("drop", () => {
    // Once per run: a flood would fill the log otherwise.
    if (!warned) logger.warn(`connections over the limit of ${limits.maxConnections} are closed at once`);
    warned = true;
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // A response already under way cannot be replaced by an error: only closing is left.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const error = clientErrorOf(err, limits);
    const body = JSON.stringify({ error: error.toJSON() });
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_TEXT[error.status] ?? "Bad Request"}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/** What the parser refused, as a RiffError; `reason` is llhttp's one-line account. */
function clientErrorOf(err: NodeJS.ErrnoException & { reason?: string }, limits: ResolvedServerLimits): RiffError {
  if (err.code === "HPE_HEADER_OVERFLOW") {
    return new RiffError("RIFF_HEADERS_TOO_LARGE", "the request's headers are larger than the limit of 16 KiB", {
      hint: "send fewer or shorter headers; put large data in the body",
    });
  }
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return new RiffError("RIFF_REQUEST_TIMEOUT", `the request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`, {
      hint: "send the whole request at once; the limits are set with `riff system start --headers-timeout/--request-timeout`",
    });
  }
  const reason = typeof err.reason === "string" && err.reason !== "" ? err.reason : (err.code ?? err.message);
  return new RiffError("RIFF_BAD_REQUEST", `malformed HTTP request: ${reason}`, {
    hint: "send an HTTP/1.1 request with a valid request line and headers, e.g. curl -X POST --data 10 http://HOST:PORT/messages/TOPIC",
  });
}
