import type { MessageLease } from "@riff/broker";
import type { Replica } from "./replica.js";

/**
 * The replicas working on messages delivered under each lease. When a lease is lost, another
 * node may deliver the same messages at once, so the replicas still working on them here are
 * stopped: a partition never runs in two places at the same time.
 */
export class LeaseGuard {
  private readonly working = new Map<AbortSignal, Map<Replica, number>>();

  constructor(private readonly stop: (replica: Replica, why: string) => void) {}

  /** `replica` starts on a message of `lease`. */
  begin(lease: MessageLease | undefined, replica: Replica): void {
    if (lease === undefined) return;
    let replicas = this.working.get(lease.signal);
    if (replicas === undefined) {
      replicas = new Map();
      this.working.set(lease.signal, replicas);
      lease.signal.addEventListener("abort", () => this.lost(lease), { once: true });
    }
    replicas.set(replica, (replicas.get(replica) ?? 0) + 1);
  }

  /** `replica` is done with a message of `lease`. */
  end(lease: MessageLease | undefined, replica: Replica): void {
    if (lease === undefined) return;
    const replicas = this.working.get(lease.signal);
    const n = (replicas?.get(replica) ?? 1) - 1;
    if (n > 0) replicas?.set(replica, n);
    else replicas?.delete(replica);
  }

  private lost(lease: MessageLease): void {
    const replicas = this.working.get(lease.signal);
    this.working.delete(lease.signal);
    const why = String((lease.signal.reason as Error | undefined)?.message ?? "its lease was lost");
    for (const replica of replicas?.keys() ?? []) this.stop(replica, `a partition it was working on moved to another node (${why})`);
  }
}
