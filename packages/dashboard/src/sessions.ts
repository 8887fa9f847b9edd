import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** How long a `riff dashboard` link may wait before it is used. @default 2 min */
export const DEFAULT_LOGIN_LINK_TTL_MS = 120_000;
/** How long a browser stays logged in. @default 12 h */
export const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;
/** The cookie's name; its path is `/ui`, so the API and the gateway never see it. */
export const SESSION_COOKIE = "riff_session";

/** Options of {@link DashboardSessions}; `secret` is the daemon's admin token. */
export interface SessionOptions {
  secret: string;
  /** @default DEFAULT_LOGIN_LINK_TTL_MS */
  loginLinkTtlMs?: number;
  /** @default DEFAULT_SESSION_TTL_MS */
  sessionTtlMs?: number;
  now?: () => number;
}

/**
 * One-time login links and the session cookies they turn into. Links live in memory (used once,
 * short-lived). Sessions are signed with the admin token instead of stored, so an open tab
 * keeps working after the daemon restarts, and any change of the token logs every browser out.
 */
export class DashboardSessions {
  private readonly links = new Map<string, number>();
  private readonly now: () => number;
  private readonly linkTtlMs: number;
  readonly sessionTtlMs: number;

  constructor(private readonly options: SessionOptions) {
    this.now = options.now ?? Date.now;
    this.linkTtlMs = options.loginLinkTtlMs ?? DEFAULT_LOGIN_LINK_TTL_MS;
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  /** A new one-time token for `/ui/login?token=`. */
  issueLink(): { token: string; expiresAt: number } {
    const now = this.now();
    for (const [t, exp] of this.links) if (exp <= now) this.links.delete(t);
    const token = randomBytes(24).toString("base64url");
    const expiresAt = now + this.linkTtlMs;
    this.links.set(token, expiresAt);
    return { token, expiresAt };
  }

  /** Spends a link: a new session value when it was valid, undefined when unknown, used or late. */
  redeem(token: string): string | undefined {
    const expiresAt = this.links.get(token);
    this.links.delete(token);
    if (expiresAt === undefined || expiresAt <= this.now()) return undefined;
    const body = `${this.now() + this.sessionTtlMs}.${randomBytes(12).toString("base64url")}`;
    return `${body}.${this.sign(body)}`;
  }

  /** True for a session this daemon's token signed that has not expired. */
  valid(session: string | undefined): boolean {
    if (session === undefined) return false;
    const dot = session.lastIndexOf(".");
    if (dot <= 0) return false;
    const body = session.slice(0, dot);
    const given = Buffer.from(session.slice(dot + 1));
    const wanted = Buffer.from(this.sign(body));
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return false;
    return Number(body.split(".")[0]) > this.now();
  }

  private sign(body: string): string {
    return createHmac("sha256", `riff-dashboard:${this.options.secret}`).update(body).digest("base64url");
  }
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
