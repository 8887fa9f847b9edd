import { createHash } from "node:crypto";
import { RiffError } from "@riff/core";

/** @default 120000 ms: how long an Idempotency-Key is remembered. */
export const DEFAULT_IDEMPOTENCY_WINDOW_MS = 120_000;
/** Keys remembered at most; the oldest go first past it, so memory stays bounded. */
const MAX_ENTRIES = 100_000;

export const IDEMPOTENCY_HEADER = "idempotency-key";

interface Entry<T> {
  fingerprint: string;
  answer: Promise<T>;
  at: number;
}

/**
 * Publishing once from the caller's side (the IETF Idempotency-Key draft): within the window,
 * a repeat of a request with the same key gets the first one's answer, without publishing
 * again, and waits for it if the first is still running. The key is scoped to the path (topic
 * and kind); reusing it with another body is a 422. A first attempt that failed is forgotten,
 * so the retry runs. Kept in this gateway's memory; a repeat sent to another node of a cluster
 * is caught by the broker's own deduplication instead (see {@link idempotentId}).
 */
export class IdempotencyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly windowMs = DEFAULT_IDEMPOTENCY_WINDOW_MS) {}

  async run(scope: string, key: string, body: Uint8Array, work: () => Promise<T>): Promise<{ value: T; replayed: boolean }> {
    this.expire();
    const id = `${scope}\u0000${key}`;
    const fingerprint = createHash("sha256").update(body).digest("base64url");
    const seen = this.entries.get(id);
    if (seen !== undefined) {
      if (seen.fingerprint !== fingerprint) {
        throw new RiffError("RIFF_IDEMPOTENCY_CONFLICT", `Idempotency-Key '${key}' was used for another body within ${this.windowMs / 1000} s`, {
          hint: "use a new key for a new message; repeat a key only to retry the same request",
        });
      }
      return { value: await seen.answer, replayed: true };
    }
    const answer = work();
    this.entries.set(id, { fingerprint, answer, at: Date.now() });
    answer.catch(() => this.entries.delete(id));
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return { value: await answer, replayed: false };
  }

  private expire(): void {
    const before = Date.now() - this.windowMs;
    // Insertion order is age order: stop at the first one still in the window.
    for (const [id, e] of this.entries) {
      if (e.at >= before) break;
      this.entries.delete(id);
    }
  }
}

/** The broker's message id for key `key` on `topic`: the same on every node, 45 characters. */
export function idempotentId(topic: string, key: string): string {
  return `i.${createHash("sha256").update(`${topic}\u0000${key}`).digest("base64url")}`;
}

/** The Idempotency-Key of a request, checked: 1 to 255 visible ASCII characters. */
export function idempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/.test(value)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "Idempotency-Key header: must be 1 to 255 visible ASCII characters", {
      hint: "a UUID is a good key: Idempotency-Key: 8e03978e-40d5-43e8-bc93-6894a57f9324",
    });
  }
  return value;
}
