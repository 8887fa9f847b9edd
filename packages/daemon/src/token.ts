import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

/** Reads the admin token, generating it (mode 0600) at first start. */
export function ensureToken(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    const token = randomBytes(32).toString("base64url");
    writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
    return token;
  }
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function checkBearer(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
