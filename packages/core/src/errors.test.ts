import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ErrorCodes, fromErrorBody, RiffError } from "./errors.js";

describe("error codes", () => {
  it("docs/errors.md lists every code with its kind and status, and nothing else", () => {
    const doc = readFileSync(resolve(import.meta.dirname, "../../../docs/errors.md"), "utf8");
    const rows = [...doc.matchAll(/^\| `(RIFF_[A-Z_]+)` \| (user|system) \| (\d+) \|/gm)].map((m) => [m[1], m[2], Number(m[3])]);
    const codes = Object.entries(ErrorCodes).map(([code, { kind, status }]) => [code, kind, status]);
    expect(rows).toEqual(codes);
  });

  it("round-trips through the wire form, with a stack only for system errors and only when asked", () => {
    const user = new RiffError("RIFF_TOPIC_NOT_FOUND", "topic 'x' does not exist", { hint: "create it" });
    expect(user.toJSON()).toEqual({ code: "RIFF_TOPIC_NOT_FOUND", message: "topic 'x' does not exist", hint: "create it" });
    expect(fromErrorBody(user.toJSON())).toMatchObject({ code: "RIFF_TOPIC_NOT_FOUND", kind: "user", status: 404, hint: "create it" });
    expect(new RiffError("RIFF_INTERNAL", "boom").toJSON({ stack: true }).stack).toContain("boom");
    // The gateway's answers: riff's file paths stay in the daemon's log.
    expect(new RiffError("RIFF_INTERNAL", "boom").toJSON().stack).toBeUndefined();
    expect(user.toJSON({ stack: true }).stack).toBeUndefined();
  });
});
