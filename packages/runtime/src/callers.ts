import { randomBytes } from "node:crypto";

/**
 * Which replica a call to riff's own gateway comes from. Each replica's `RIFF_GATEWAY_URL` ends
 * in a secret path of its own (`/r/TOKEN`); a message published through it carries the hop count
 * of what that replica is handling, so a function that posts to its own input with plain curl or
 * fetch, and none of riff's headers, is stopped at the hop limit like any other loop.
 */
export class CallerRegistry {
  private readonly byToken = new Map<string, () => number>();

  /** A new secret path for a replica whose hop count `hops()` tells; `release` forgets it. */
  register(hops: () => number): { token: string; release(): void } {
    const token = randomBytes(12).toString("base64url");
    this.byToken.set(token, hops);
    return { token, release: () => void this.byToken.delete(token) };
  }

  /** The hop count of the replica behind `token`, or undefined for a token riff does not know. */
  hopsOf(token: string): number | undefined {
    return this.byToken.get(token)?.();
  }
}

/**
 * The replica's gateway address: riff's (set by the daemon once it listens) with the replica's
 * secret path; undefined before the daemon listens.
 */
export function callerGatewayUrl(token: string): string | undefined {
  const base = process.env["RIFF_GATEWAY_URL"];
  return base === undefined ? undefined : `${base}/r/${token}`;
}

/** The hop counts of what each replica handles: what a publish through its gateway path carries. */
export class HopBook {
  private readonly inFlight = new Map<string, number[]>();
  private readonly last = new Map<string, number>();

  begin(replica: string, hops: number): void {
    const list = this.inFlight.get(replica) ?? [];
    list.push(hops);
    this.inFlight.set(replica, list);
  }

  end(replica: string, hops: number): void {
    const list = this.inFlight.get(replica) ?? [];
    const i = list.indexOf(hops);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.inFlight.delete(replica);
    this.last.set(replica, hops);
  }

  /**
   * The highest count in flight on `replica`; with nothing in flight, that of the last message
   * it handled (a function may publish after it answered), or 0 before any.
   */
  current(replica: string): number {
    const list = this.inFlight.get(replica);
    return list !== undefined && list.length > 0 ? Math.max(...list) : (this.last.get(replica) ?? 0);
  }

  /** The replica is gone. */
  forget(replica: string): void {
    this.inFlight.delete(replica);
    this.last.delete(replica);
  }
}
