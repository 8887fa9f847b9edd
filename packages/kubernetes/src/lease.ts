import type { Logger } from "@riff/core";
import { apiVersionOf, kubeStatus, LEASES, type KubeApi, type KubeObject } from "./kube-api.js";
import { pause } from "./informer.js";

/** Timing of the election, as client-go's leaderelection names it. */
export interface LeaseTiming {
  /** @default 6000: a lease not renewed for this long may be taken. */
  leaseDurationMs: number;
  /** @default 1000: how often the holder renews and the others look. */
  retryPeriodMs: number;
  /** @default 2000: the holder stops acting this long before its lease can expire (clock skew, a slow write). */
  marginMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationMs: 6000, retryPeriodMs: 1000, marginMs: 2000 };

/** What a {@link LeaseElection} needs. */
export interface LeaseElectionOptions {
  api: KubeApi;
  namespace: string;
  name: string;
  /** This candidate's identity (the pod's name). */
  identity: string;
  timing?: Partial<LeaseTiming>;
  /** Became the leader: start acting. `signal` aborts when leadership is lost or the election stops. */
  onLeading(signal: AbortSignal): void;
  logger: Logger;
}

const micro = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * `spec.renewTime` every retry period with a compare-and-set on the resourceVersion; another
 * candidate takes the lease once it has not been renewed for `leaseDurationMs`. The holder's
 * signal aborts as soon as it cannot prove it still holds the lease with a margin to spare
 * (a failed renewal, a paused process that wakes up late), so two controllers never act at once.
 */
export class LeaseElection {
  private readonly timing: LeaseTiming;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private leading: AbortController | undefined;
  /** When our last successful renewal happened (Date.now()). */
  private renewedAt = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly o: LeaseElectionOptions) {
    this.timing = { ...DEFAULT_LEASE_TIMING, ...o.timing };
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  /**
   * Whether this candidate may act now: it leads and its last renewal is recent enough. Checked
   * before every write, besides the signal: a process paused past its lease (SIGSTOP, a long
   * GC) may run a pending callback before the watchdog's.
   */
  holds(): boolean {
    return this.leading !== undefined && Date.now() < this.renewedAt + this.timing.leaseDurationMs - this.timing.marginMs;
  }

  start(): void {
    this.loop = this.run();
  }

  /** Stops acting and gives the lease up, so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    const wasLeading = this.leading !== undefined;
    this.lose("the controller is stopping");
    if (wasLeading) await this.release().catch((err: unknown) => this.o.logger.warn("could not release the lease", { err: String(err) }));
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        this.o.logger.warn("the leader election could not reach the lease", { err: String(err) });
      }
      await pause(this.timing.retryPeriodMs, this.abort.signal);
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { api, namespace, name, identity } = this.o;
    const now = Date.now();
    const lease = await api.get(LEASES, namespace, name);
    const spec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.timing.leaseDurationMs / 1000), renewTime: micro(now) };
    if (lease === undefined) {
      await this.write(() => api.create({ apiVersion: apiVersionOf(LEASES), kind: LEASES.kind, metadata: { name, namespace }, spec: { ...spec, acquireTime: micro(now), leaseTransitions: 0 } }), now);
      return;
    }
    const current = lease.spec as { holderIdentity?: string | null; renewTime?: string; leaseDurationSeconds?: number; leaseTransitions?: number; acquireTime?: string };
    const holder = current.holderIdentity ?? "";
    if (holder === identity) {
      await this.write(() => api.replace({ ...lease, spec: { ...current, ...spec } }), now);
      return;
    }
    if (this.leading !== undefined) this.lose(`the lease is held by ${holder}`);
    const renewed = current.renewTime === undefined ? 0 : Date.parse(current.renewTime);
    const expired = holder === "" || now - renewed > (current.leaseDurationSeconds ?? 0) * 1000;
    if (!expired) return;
    const transitions = (current.leaseTransitions ?? 0) + 1;
    await this.write(() => api.replace({ ...lease, spec: { ...current, ...spec, acquireTime: micro(now), leaseTransitions: transitions } } as KubeObject), now);
  }

  /** A create or replace of the lease; on success we hold it as of `at`. A 409 means someone else won. */
  private async write(op: () => Promise<KubeObject>, at: number): Promise<void> {
    try {
      await op();
    } catch (err) {
      if (kubeStatus(err) === 409) {
        this.lose("another candidate wrote the lease first");
        return;
      }
      throw err;
    }
    this.renewedAt = at;
    this.armWatchdog();
    if (this.leading === undefined) {
      this.leading = new AbortController();
      this.o.logger.info("leading: this controller holds the lease", { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
      this.o.onLeading(this.leading.signal);
    }
  }

  /** Steps down when no renewal succeeds in time, even if the loop itself is stuck. */
  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    const deadline = this.renewedAt + this.timing.leaseDurationMs - this.timing.marginMs;
    this.watchdog = setTimeout(() => this.lose("the lease could not be renewed in time"), Math.max(0, deadline - Date.now()));
    this.watchdog.unref();
  }

  private lose(why: string): void {
    clearTimeout(this.watchdog);
    if (this.leading === undefined) return;
    this.o.logger.warn("no longer leading", { why });
    this.leading.abort();
    this.leading = undefined;
  }

  private async release(): Promise<void> {
    const lease = await this.o.api.get(LEASES, this.o.namespace, this.o.name);
    if (lease === undefined || (lease.spec as { holderIdentity?: string }).holderIdentity !== this.o.identity) return;
    // client-go's ReleaseOnCancel: no holder, so the next candidate need not wait out the duration.
    await this.o.api.replace({ ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 } });
  }
}
