import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@riff/core";
import { Lease, type KvAccess, type LeaseTiming } from "@riff/broker-nats";

/** What a {@link LeaderElection} needs. */
export interface LeaderElectionOptions {
  /** A KV bucket whose ttl is `timing.ttlMs`. */
  kv: KvAccess;
  node: string;
  timing: LeaseTiming;
  /** How often the leader renews and followers try to take over. */
  everyMs: number;
  /** Called when this node becomes the leader or stops being it. */
  changed(leader: boolean): void;
  logger: Logger;
}

/**
 * One node of the cluster leads: it runs the autoscaler and places replicas. The lead is a
 * lease on key `controller` (nats.md §4): taken with `create`, renewed with `update` at its
 * revision, lost on a compare-and-set failure or when renewals stop getting through; followers
 * try to take it every `everyMs` (expiry is silent on NATS 2.9). A node leaving cleanly gives
 * it up, so another takes over at once.
 */
export class LeaderElection {
  private readonly lease: Lease;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private leading = false;

  constructor(private readonly o: LeaderElectionOptions) {
    this.lease = new Lease(o.kv, "controller", o.timing, () => JSON.stringify({ node: o.node, at: new Date().toISOString() }));
  }

  /** Whether this node leads now (its lease is valid on its own clock). */
  get isLeader(): boolean {
    return this.leading && this.lease.valid();
  }

  /** The lease's revision when this node took it: the fencing token of its decisions. */
  get generation(): number {
    return this.lease.generation;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.lease.held) await this.lease.release().catch(() => undefined);
    this.set(false);
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const ok = this.lease.held ? await this.lease.renew() : await this.lease.acquire();
        this.set(ok);
      } catch (err) {
        // A timeout while the KV's leader is elected: keep the lead until its deadline.
        if (!this.lease.valid()) {
          this.lease.lose(String(err));
          this.set(false);
        }
      }
      await sleep(this.o.everyMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  private set(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.logger.info(leading ? "this node leads the cluster" : "this node no longer leads the cluster", { node: this.o.node });
    this.o.changed(leading);
  }
}
