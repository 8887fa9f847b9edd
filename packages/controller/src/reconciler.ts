import { setTimeout as sleep } from "node:timers/promises";
import { toRiffError, type Logger } from "@riff/core";
import { followStore } from "./follow.js";
import type { FunctionCatalog } from "./catalog.js";
import type { StoredFunction } from "./function-spec.js";
import { reconcileFunction, type DesiredFunction, type RunnerHost } from "./reconcile.js";
import type { ResourceStore } from "./stores.js";
import type { WorkQueue } from "./work-queue.js";

/** @default 30 s between full re-reads of the store, besides its watch. */
export const DEFAULT_RESYNC_MS = 30_000;
/** Waits after a failed reconcile of a function before it is tried again; the last one repeats. */
const RETRY_BACKOFF_MS = [500, 1000, 2000, 5000, 10_000] as const;

/** Where this node stands in running a function, besides the function itself. */
export type PlacementOf = (name: string) => Pick<DesiredFunction, "membership" | "replicas">;

/** What a {@link Reconciler} needs. */
export interface ReconcilerOptions {
  store: ResourceStore<StoredFunction>;
  catalog: FunctionCatalog;
  host: RunnerHost;
  /** Shared with the apply path, so a reconcile and an apply of one function never interleave. */
  queue: WorkQueue;
  /** One daemon: every function reads its inputs; in a cluster, the placement says. */
  placement: PlacementOf;
  /**
   * Whether this node runs `name` at all (a node started with `--runs`); the others are known
   * (the gateway routes to them) but not prepared here. @default every function
   */
  runsHere?: (name: string) => boolean;
  logger: Logger;
  /** @default DEFAULT_RESYNC_MS */
  resyncMs?: number;
}

/** `created` → `running` → `stopped`. */
export type ReconcilerState = "created" | "running" | "stopped";

/**
 * Makes this node run what the function store says, level-triggered as Kubernetes controllers
 * are: every change seen on the store's watch, every full re-read (a watch may go blind for
 * seconds when a KV leader dies), and every placement change queues the function's name; a
 * worker then compares desired with observed (the pure {@link reconcileFunction}) and acts.
 * A restart is just a reconcile: nothing is "restored".
 */
export class Reconciler {
  private current: ReconcilerState = "created";
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  /** Failures in a row per function, for the wait before the next try. */
  private readonly failures = new Map<string, number>();

  constructor(private readonly o: ReconcilerOptions) {}

  get state(): ReconcilerState {
    return this.current;
  }

  /** Reads the store, brings every function to its desired state, then follows changes. */
  async start(): Promise<void> {
    this.current = "running";
    await this.resync();
    this.loops.push(this.watch(), this.resyncLoop());
  }

  /** Stops following the store; the runners are the host's to stop. */
  async stop(): Promise<void> {
    if (this.current === "stopped") return;
    this.current = "stopped";
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await this.o.queue.idle();
  }

  /** Queues `name` for a reconcile; resolves once that has run. */
  reconcile(name: string): Promise<void> {
    if (this.current !== "running") return Promise.resolve();
    return this.o.queue.request(name, () => this.reconcileNow(name));
  }

  /** Queues every function known here or running here. */
  reconcileAll(): Promise<void> {
    const names = new Set([...this.o.catalog.names(), ...this.o.host.list().map((e) => e.fn.name)]);
    return Promise.all([...names].map((n) => this.reconcile(n))).then(() => undefined);
  }

  private async reconcileNow(name: string): Promise<void> {
    const stored = this.o.catalog.get(name);
    const here = this.o.runsHere?.(name) ?? true;
    const desired: DesiredFunction | undefined = stored === undefined || !here ? undefined : { fn: stored.value, ...this.o.placement(name) };
    for (const action of reconcileFunction(desired, this.o.host.observe(name))) {
      try {
        await this.o.host.apply(action);
      } catch (err) {
        // Tried again after a growing wait (and at every event and resync meanwhile), as
        // controller-runtime requeues a failed key; what failed stays visible in the logs.
        const failures = (this.failures.get(name) ?? 0) + 1;
        this.failures.set(name, failures);
        const waitMs = RETRY_BACKOFF_MS[Math.min(failures - 1, RETRY_BACKOFF_MS.length - 1)] ?? 10_000;
        this.o.logger.error("could not reconcile function; trying again", { fn: name, action: action.type, code: toRiffError(err).code, err: String(err), retryInMs: waitMs });
        setTimeout(() => void this.reconcile(name), waitMs).unref();
        return;
      }
    }
    this.failures.delete(name);
  }

  private async resync(): Promise<void> {
    try {
      this.o.catalog.replace(await this.o.store.list());
    } catch (err) {
      this.o.logger.warn("could not read the function store; using what is known", { err: String(err) });
    }
    await this.reconcileAll();
  }

  private async watch(): Promise<void> {
    await followStore(this.o.store, this.abort.signal, (event) => {
      if (event.type === "synced") void this.reconcileAll();
      else if (this.o.catalog.take(event)) void this.reconcile(event.name);
    }, this.o.logger, "the function store");
  }

  private async resyncLoop(): Promise<void> {
    const every = this.o.resyncMs ?? DEFAULT_RESYNC_MS;
    while (!this.abort.signal.aborted) {
      const slept = await sleep(every, true, { signal: this.abort.signal }).catch(() => false);
      if (!slept) return;
      await this.resync();
    }
  }
}
