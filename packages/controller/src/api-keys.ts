import { createHash, randomBytes } from "node:crypto";
import { RiffError, type Logger } from "@riff/core";
import { followStore } from "./follow.js";
import type { ResourceStore } from "./stores.js";
import { TokenBuckets } from "@riff/core";

/** An API key of the gateway as stored: its hash only, never the key itself. */
export interface ApiKey {
  /** sha256 of the key, base64url. */
  hash: string;
  /** The topics it may publish to. */
  topics: string[];
  /** Requests per second per topic; undefined: unlimited. */
  rate: number | undefined;
  createdAt: string;
}

export type ApiKeyStore = ResourceStore<ApiKey>;

/** A new key: `riff_<id>_<secret>`, its id (the store's name for it) and what is stored. */
export function newApiKey(topics: string[], rate: number | undefined): { id: string; key: string; record: ApiKey } {
  const id = randomBytes(4).toString("hex");
  const key = `riff_${id}_${randomBytes(24).toString("base64url")}`;
  return { id, key, record: { hash: hashOf(key), topics, rate, createdAt: new Date().toISOString() } };
}

function hashOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url");
}

/**
 * The gateway's keys, followed from their store (so keys made through any node of a cluster
 * count everywhere). With no key, the gateway is open, as on loopback by default; from the first
 * key on, every publish needs one (`Authorization: Bearer KEY`) that names its topic, and each
 * key's rate holds per topic: past it, a 429 says when to try again.
 */
export class KeyRing {
  private readonly byHash = new Map<string, { id: string; key: ApiKey }>();
  private readonly buckets = new TokenBuckets();

  constructor(
    private readonly store: ApiKeyStore,
    /** The admin token: whoever holds it administers riff, and may publish anywhere, unlimited. */
    private readonly adminToken: string,
    private readonly logger: Logger,
  ) {}

  /** Follows the store until `signal` aborts. */
  start(signal: AbortSignal): void {
    void followStore(this.store, signal, (event) => {
      if (event.type === "put") {
        for (const [hash, k] of this.byHash) if (k.id === event.name) this.byHash.delete(hash);
        this.byHash.set(event.value.hash, { id: event.name, key: event.value });
      } else if (event.type === "delete") {
        for (const [hash, k] of this.byHash) if (k.id === event.name) this.byHash.delete(hash);
      }
    }, this.logger, "API keys");
  }

  /** Whether keys are required now (there is at least one). */
  get enforced(): boolean {
    return this.byHash.size > 0;
  }

  /**
   * Checks a publish to `topic` with `authorization` (the header's value); throws RIFF_UNAUTHORIZED
   * (no key, or an unknown one), RIFF_FORBIDDEN (not for this topic) or RIFF_RATE_LIMITED (with
   * `retryAfterS`, for the Retry-After header).
   */
  check(topic: string, authorization: string | undefined, now = Date.now()): void {
    if (!this.enforced) return;
    const key = authorization?.startsWith("Bearer ") ? authorization.slice(7).trim() : undefined;
    if (key === this.adminToken) return;
    const found = key === undefined ? undefined : this.byHash.get(hashOf(key));
    if (found === undefined) {
      throw new RiffError("RIFF_UNAUTHORIZED", key === undefined ? "this gateway needs an API key" : "unknown API key", {
        hint: "send Authorization: Bearer KEY, with a key from `riff keys create --topic TOPIC`",
      });
    }
    if (!found.key.topics.includes(topic)) {
      throw new RiffError("RIFF_FORBIDDEN", `API key ${found.id} may not publish to topic '${topic}' (it may: ${found.key.topics.join(", ")})`, {
        hint: `create a key for it with \`riff keys create --topic ${topic}\``,
      });
    }
    const rate = found.key.rate;
    if (rate === undefined) return;
    const retryAfterS = this.buckets.take(`${found.id}\u0000${topic}`, rate, now);
    if (retryAfterS !== undefined) {
      throw new RiffError("RIFF_RATE_LIMITED", `API key ${found.id} is over its rate of ${rate}/s on topic '${topic}'`, {
        hint: `try again in ${retryAfterS} s (Retry-After)`,
        details: { retryAfterS, topic, key: found.id },
      });
    }
  }
}
