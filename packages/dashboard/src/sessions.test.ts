import { describe, expect, it } from "vitest";
import { cookieValue, DashboardSessions } from "./sessions.js";

describe("dashboard sessions", () => {
  it("a link works once, and only before it expires", () => {
    let now = 1_000;
    const s = new DashboardSessions({ secret: "t", loginLinkTtlMs: 100, now: () => now });
    const { token } = s.issueLink();
    const session = s.redeem(token);
    expect(s.valid(session)).toBe(true);
    expect(s.redeem(token)).toBeUndefined();
    const late = s.issueLink().token;
    now += 101;
    expect(s.redeem(late)).toBeUndefined();
  });

  it("a session is signed by the token, survives a new instance (restart), and expires", () => {
    let now = 0;
    const a = new DashboardSessions({ secret: "t", sessionTtlMs: 1000, now: () => now });
    const session = a.redeem(a.issueLink().token);
    expect(new DashboardSessions({ secret: "t", now: () => now }).valid(session)).toBe(true);
    expect(new DashboardSessions({ secret: "other", now: () => now }).valid(session)).toBe(false);
    expect(a.valid(`${session ?? ""}x`)).toBe(false);
    expect(a.valid("garbage")).toBe(false);
    now = 1001;
    expect(a.valid(session)).toBe(false);
  });

  it("reads one cookie out of a header", () => {
    expect(cookieValue("a=1; riff_session=x.y.z; b=2", "riff_session")).toBe("x.y.z");
    expect(cookieValue(undefined, "riff_session")).toBeUndefined();
  });
});
