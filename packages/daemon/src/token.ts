import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { RiffError } from "@riff/core";

/**
 * Reads the admin token from `path`, refusing a file others may read: whoever reads it runs
 * any code as riff's user. Both the daemon and the CLI read it through here. Undefined when
 * the file does not exist.
 */
export function readToken(path: string, options: { ownGroup?: boolean } = {}): string | undefined {
  let mode: number;
  let gid: number;
  try {
    ({ mode, gid } = statSync(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  // With `ownGroup`, a file riff's own group may read passes too: Kubernetes mounts a Secret
  // of a pod with fsGroup as 0440, group-owned by that group (riff's, in its pods).
  const forbidden = options.ownGroup === true && gid === process.getgid?.() ? 0o037 : 0o077;
  // Windows has no such bits to check.
  if (process.platform !== "win32" && (mode & forbidden) !== 0) {
    throw new RiffError("RIFF_TOKEN_UNSAFE", `the admin token file ${path} has mode 0${(mode & 0o777).toString(8)}: others than its owner may read it, so riff will not use it`, {
      hint: `run: chmod 600 ${path}`,
      details: { file: path, mode: `0${(mode & 0o777).toString(8)}` },
    });
  }
  return readFileSync(path, "utf8").trim();
}

/** The fewest characters a token from `--token-file` may have: a short one is guessed. */
const MIN_TOKEN_CHARS = 16;

/**
 * The admin token from `--token-file` (a Kubernetes Secret mounted with mode 0400, say): the
 * file must exist, be readable by its owner and riff's own group alone, and hold a token of 16
 * characters or more.
 */
export function readTokenFile(path: string): string {
  const token = readToken(path, { ownGroup: true });
  if (token === undefined) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--token-file ${path}: no such file`, {
      hint: "give a file that holds the admin token, readable by riff's user only (chmod 600 FILE)",
    });
  }
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--token-file ${path}: the token must be one word of at least ${MIN_TOKEN_CHARS} characters`, {
      hint: "e.g. write one with: head -c 32 /dev/urandom | base64 | tr -d '=+/\\n' > FILE && chmod 600 FILE",
    });
  }
  return token;
}

/** Reads the admin token, generating it (mode 0600) at first start. */
export function ensureToken(path: string): string {
  const existing = readToken(path);
  if (existing !== undefined) return existing;
  const token = randomBytes(32).toString("base64url");
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: "wx" });
  return token;
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function checkBearer(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
