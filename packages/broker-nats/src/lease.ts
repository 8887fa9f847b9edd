import type { MessageLease } from "@riff/broker";
import type { KV } from "nats";
import { apiErrorCode, JsErrorCodes } from "./errors.js";

/** A KV bucket to run calls on (a {@link KvBucket}, which recreates a lost bucket, or a plain KV). */
export interface KvAccess {
  op<T>(fn: (kv: KV) => Promise<T>): Promise<T>;
}

/** A plain KV as {@link KvAccess}. */
export function kvAccess(kv: KV): KvAccess {
  return { op: (fn) => fn(kv) };
}

/** Timing of a lease; see docs/cluster.md for why these values. */
export interface LeaseTiming {
  /** The bucket's ttl: an unrenewed lease disappears this long after its last write. */
  ttlMs: number;
  /**
   * The holder stops acting on the lease this long before the earliest moment it can expire
   * on the server, so that it has stopped before anyone else can take it.
   */
  marginMs: number;
}

/**
 * A lease on one key of a KV bucket whose ttl is the lease's: `kv.create` takes it,
 * `kv.update` at the last revision renews it, and a compare-and-set failure means someone else
 * holds it now. The revision at which it was taken is the fencing token (`generation`).
 *
 * The holder's own clock decides when it stops: `valid()` turns false `ttl − margin` after the
 * last renewal was *sent*, which is before the server can have expired it (the ttl counts from
 * when the server stored the write, which is after it was sent). A holder that is paused,
 * cut off, or whose renewals fail therefore fences itself before another can take the key.
 * Expiry is silent (no watch event before NATS 2.11), so contenders retry `acquire`.
 */
export class Lease {
  private revision = 0;
  private deadline = 0;
  private controller: AbortController | undefined;
  /** The revision at which this holder took the lease; 0 when not held. */
  generation = 0;

  constructor(
    private readonly kv: KvAccess,
    readonly key: string,
    private readonly timing: LeaseTiming,
    private readonly value: () => string,
  ) {}

  /** Whether this holder may act on the lease now. */
  valid(now = performance.now()): boolean {
    return this.generation > 0 && now < this.deadline;
  }

  get held(): boolean {
    return this.generation > 0;
  }

  /** Aborts when the lease is lost or released: what was started under it must stop. */
  get fence(): AbortSignal | undefined {
    return this.controller?.signal;
  }

  /** The lease as messages delivered under it carry it (one object per generation). */
  forMessages(): MessageLease | undefined {
    const signal = this.controller?.signal;
    if (signal === undefined) return undefined;
    const generation = this.generation;
    return { generation, signal, held: () => !signal.aborted && this.generation === generation && this.valid() };
  }

  /** Takes the lease if nobody holds it; resolves whether it was taken. */
  async acquire(): Promise<boolean> {
    if (this.held) return true;
    const sent = performance.now();
    try {
      this.revision = await this.kv.op((kv) => kv.create(this.key, this.value()));
    } catch (err) {
      if (apiErrorCode(err) === JsErrorCodes.wrongLastSequence) return false;
      throw err;
    }
    this.generation = this.revision;
    this.deadline = sent + this.timing.ttlMs - this.timing.marginMs;
    this.controller = new AbortController();
    return true;
  }

  /**
   * Renews the lease. Resolves false when it is lost (someone else took it, or it expired on
   * this holder's clock); a failure that may pass (a timeout while a KV leader is elected)
   * rejects and leaves the lease held until its deadline.
   */
  async renew(): Promise<boolean> {
    if (!this.held) return false;
    if (!this.valid()) {
      this.lose("its renewals did not get through in time");
      return false;
    }
    const sent = performance.now();
    try {
      const revision = this.revision;
      this.revision = await this.kv.op((kv) => kv.update(this.key, this.value(), revision));
    } catch (err) {
      if (apiErrorCode(err) === JsErrorCodes.wrongLastSequence) {
        this.lose("another holder took it");
        return false;
      }
      throw err;
    }
    this.deadline = sent + this.timing.ttlMs - this.timing.marginMs;
    return this.valid();
  }

  /** Gives the lease up (a clean handover): others may take it at once. */
  async release(): Promise<void> {
    if (!this.held) return;
    const revision = this.revision;
    this.lose("released");
    try {
      await this.kv.op((kv) => kv.delete(this.key, { previousSeq: revision }));
    } catch (err) {
      // Taken over or expired already: it is not ours either way.
      if (apiErrorCode(err) !== JsErrorCodes.wrongLastSequence) throw err;
    }
  }

  /** Forgets the lease here at once and aborts its fence; `why` becomes the abort reason. */
  lose(why: string): void {
    if (!this.held) return;
    this.generation = 0;
    this.revision = 0;
    this.deadline = 0;
    this.controller?.abort(new Error(`lease ${this.key} lost: ${why}`));
    this.controller = undefined;
  }
}
