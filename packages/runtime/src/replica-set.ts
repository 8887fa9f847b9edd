import { rmSync } from "node:fs";
import { DEFAULT_MEMORY_BYTES, DEFAULT_PIDS, RiffError, toMicros, toRiffError, type Logger } from "@riff/core";
import type { Invoker, PreparedFunction } from "./invoker.js";
import type { LogLine, Replica } from "./replica.js";
import { callerGatewayUrl, HopBook, type CallerRegistry } from "./callers.js";
import type { Limiter } from "./limits.js";
import type { Confinement, Sandbox } from "./sandbox.js";

/** @default 10000 ms for a stopping replica to finish what it holds before it is killed. */
export const DEFAULT_GRACE_MS = 10_000;
/** A replica that ran this long before it died starts the count of crashes afresh. */
const CRASH_RESET_MS = 60_000;
/** The wait after a replica's crash: 1 s after the first of a row, doubling up to 60 s. */
const CRASH_BACKOFF_MS = { first: 1000, max: 60_000 } as const;
/** Crashes in a row from which the function shows as crash-looping. */
export const CRASH_LOOP_AT = 3;
/** Waits after the 1st, 2nd, ... failed start in a row; the last one repeats. */
const START_BACKOFF_MS = [250, 1000, 2000, 5000, 10_000, 30_000] as const;

export interface ReplicaSetOptions {
  name: string;
  code: PreparedFunction;
  invoker: Invoker;
  logger: Logger;
  onLog: (line: LogLine) => void;
  /** @default DEFAULT_GRACE_MS */
  graceMs?: number;
  sandbox?: Sandbox | undefined;
  limiter?: Limiter | undefined;
  callers?: CallerRegistry | undefined;
  /** Set once the function is stopping: no replica starts after it. */
  signal: AbortSignal;
  /** A replica became ready, or one went away: the runner dispatches again. */
  changed: () => void;
  /** A replica could not start; the set waits before the next try and calls `changed` then. */
  startFailed: (err: RiffError) => void;
  /** Writes one of riff's own lines into the function's log. */
  log: (replica: string, line: string) => void;
}

/**
 * The replicas of one function: starting them (in parallel, with a growing wait after failed
 * starts so a broken function does not spin), stopping the least busy first, and swapping
 * revisions. Which message goes where is the runner's business, not this one's.
 */
export class ReplicaSet {
  /** How long each replica spawned here took to start, until its first message (cold starts). */
  private readonly starts = new WeakMap<Replica, { initMs: number; readyAt: number }>();
  private readonly replicas: Replica[] = [];
  private starting = 0;
  private seq = 0;
  private failures = 0;
  private backoffUntil = 0;
  /** Why the last start failed; cleared by a good start or new code. */
  lastError: string | undefined;
  /** How the last replica that ended unasked (or by a limit) ended, for describe. */
  lastExit: string | undefined;
  /** Hop counts of what each replica handles (the runner books them), for its gateway path. */
  readonly hops = new HopBook();
  /** Replicas that died unasked in a row, each within CRASH_RESET_MS of its start. */
  crashes = 0;

  constructor(private options: ReplicaSetOptions) {}

  get all(): readonly Replica[] {
    return this.replicas;
  }

  get revision(): number {
    return this.options.code.revision;
  }

  ready(): Replica[] {
    return this.replicas.filter((r) => r.state === "ready");
  }

  /** No replica runs or starts. */
  get empty(): boolean {
    return this.replicas.length === 0 && this.starting === 0;
  }

  /** Milliseconds until a start may be tried again after failures; 0 when it may now. */
  backoffLeft(now = Date.now()): number {
    return Math.max(0, this.backoffUntil - now);
  }

  /**
   * Switches to new code once one replica of it is ready; the old ones then finish what they
   * hold and stop. If the new code cannot start, this rejects and the old code keeps serving,
   * so a broken `riff update` costs nothing but the error. `commit`, when given, runs between
   * the two (the store written with compare-and-set): if it fails, the new replica is stopped
   * and the old code keeps serving, having never handed a message to the new one.
   */
  async update(code: PreparedFunction, commit?: () => Promise<void>): Promise<void> {
    const id = this.nextId(code);
    let replica: Replica;
    try {
      // Not counted as starting: the scaler must not trade an old replica for this trial.
      replica = await this.launch(code, id, false);
    } catch (err) {
      this.options.log(id, `revision ${code.revision} failed to start; revision ${this.revision} keeps serving: ${(err as Error).message}`);
      throw err;
    }
    if (this.options.signal.aborted) {
      // The function was stopped (or deleted) while the new revision started.
      void replica.stop(0);
      throw new RiffError("RIFF_SHUTTING_DOWN", `function '${this.options.name}' stopped while revision ${code.revision} was starting`);
    }
    try {
      await commit?.();
    } catch (err) {
      void replica.stop(0);
      throw err;
    }
    this.options = { ...this.options, code };
    this.lastError = undefined;
    this.failures = 0;
    this.crashes = 0;
    this.backoffUntil = 0;
    const old = this.replicas.splice(0);
    this.adopt(replica, id);
    await Promise.all(old.map((r) => r.stop(this.graceMs)));
  }

  /** Takes a replica out of service and kills it at once (it is stuck); `why` goes to the log. */
  retire(replica: Replica, why: string): void {
    const i = this.replicas.indexOf(replica);
    if (i !== -1) this.replicas.splice(i, 1);
    this.options.log(replica.id, `${why}: stopping the replica (pid ${String(replica.pid)})`);
    void replica.stop(0);
    this.options.changed();
  }

  /** Starts or stops replicas until `desired` run. Starts run in parallel. */
  async scaleTo(desired: number): Promise<void> {
    const stops: Promise<void>[] = [];
    while (this.replicas.length + this.starting > desired && this.replicas.length > 0) {
      // Stop the least busy; it finishes what it holds first, and its partitions move on.
      const victim = [...this.replicas].sort((a, b) => a.inFlight - b.inFlight)[0] as Replica;
      this.replicas.splice(this.replicas.indexOf(victim), 1);
      this.options.log(victim.id, `stopping replica (pid ${String(victim.pid)})`);
      stops.push(victim.stop(this.graceMs));
    }
    const starts: Promise<void>[] = [];
    const missing = desired - this.replicas.length - this.starting;
    if (!this.options.signal.aborted && this.backoffLeft() === 0) {
      for (let i = 0; i < missing; i++) starts.push(this.spawn().catch(() => {}));
    }
    await Promise.all([...stops, ...starts]);
  }

  /**
   * If `replica` was started by {@link spawn} and this is the first message it gets, and the
   * message was waiting while it started: how long the start took (the message ran cold).
   * Undefined otherwise; each replica answers once.
   */
  takeCold(replica: Replica, messageTimestamp: number): number | undefined {
    const start = this.starts.get(replica);
    if (start === undefined) return undefined;
    this.starts.delete(replica);
    return messageTimestamp <= start.readyAt ? start.initMs : undefined;
  }

  /** Starts one replica and resolves once it is ready; rejects with why it could not start. */
  async spawn(): Promise<void> {
    const { code } = this.options;
    const id = this.nextId(code);
    const clock = performance.now();
    let replica: Replica;
    try {
      replica = await this.launch(code, id);
      this.starts.set(replica, { initMs: toMicros(performance.now() - clock), readyAt: Date.now() });
    } catch (err) {
      this.onStartFailure(toRiffError(err));
      this.options.log(id, `replica failed to start: ${(err as Error).message}`);
      throw err;
    }
    if (this.options.signal.aborted || code !== this.options.code) {
      // Stopped or updated while it was starting: it is not wanted any more.
      void replica.stop(0);
      return;
    }
    this.failures = 0;
    this.lastError = undefined;
    this.adopt(replica, id);
  }

  /** How the replicas of `code` run: riff's sandbox and limiter, the function's limits and network. */
  private confinement(code: PreparedFunction): Confinement {
    const limits = code.limits ?? { memoryBytes: DEFAULT_MEMORY_BYTES, pids: DEFAULT_PIDS, cpu: undefined };
    const { sandbox, limiter } = this.options;
    return { sandbox, limiter, limits, network: code.network ?? "host", home: sandbox?.makeHome() };
  }

  private nextId(code: PreparedFunction): string {
    return `${this.options.name}-${code.revision}-${++this.seq}`;
  }

  /** Starts a replica of `code`; resolves once it is ready. */
  private async launch(code: PreparedFunction, id: string, counted = true): Promise<Replica> {
    const { invoker, logger, onLog } = this.options;
    const confinement = this.confinement(code);
    const caller = this.options.callers?.register(() => this.hops.current(id));
    const url = caller === undefined ? undefined : callerGatewayUrl(caller.token);
    if (url !== undefined) confinement.env = { RIFF_GATEWAY_URL: url };
    const replica = invoker.createReplica(code, { id, onLog, logger, confinement });
    if (counted) this.starting++;
    try {
      await replica.start();
    } finally {
      if (counted) this.starting--;
      // Its home lasts as long as the replica, whatever processes come and go in it (known
      // once it started: before, `exited` says only "not started").
      const home = confinement.home;
      void replica.exited.then(() => {
        if (home !== undefined) rmSync(home, { recursive: true, force: true });
        caller?.release();
        this.hops.forget(id);
      });
    }
    return replica;
  }

  /** Puts a ready replica in service. */
  private adopt(replica: Replica, id: string): void {
    this.replicas.push(replica);
    this.options.log(id, `replica started (pid ${String(replica.pid)}, revision ${this.revision})`);
    void replica.exited.then((how) => {
      const i = this.replicas.indexOf(replica);
      const hit = replica.limitHit?.();
      const why = hit === "memory" ? `${how}: out of memory (spec.resources.memory)` : hit === "pids" ? `${how}: process limit reached (spec.resources.pids)` : how;
      if (i !== -1 || hit !== undefined) this.lastExit = `${id} ${why}, ${new Date().toISOString()}`;
      if (i !== -1) {
        this.replicas.splice(i, 1);
        this.options.log(id, `replica exited unexpectedly (${why})`);
        this.onCrash(id, replica.startedAt);
      }
      this.options.changed();
    });
    this.options.changed();
  }

  private get graceMs(): number {
    return this.options.graceMs ?? DEFAULT_GRACE_MS;
  }

  /** Whether replicas keep dying: the function shows as crash-looping. */
  get crashLooping(): boolean {
    const steady = this.replicas.some((r) => Date.now() - r.startedAt >= CRASH_RESET_MS);
    return this.crashes >= CRASH_LOOP_AT && !steady;
  }

  /**
   * A replica died unasked: the next one waits, 1 s after the first crash of a row and twice
   * as long after each next one, up to 60 s, so a function that keeps crashing does not spin.
   */
  private onCrash(id: string, startedAt: number): void {
    this.crashes = Date.now() - startedAt >= CRASH_RESET_MS ? 1 : this.crashes + 1;
    const delay = Math.min(CRASH_BACKOFF_MS.max, CRASH_BACKOFF_MS.first * 2 ** (this.crashes - 1));
    this.backoffUntil = Math.max(this.backoffUntil, Date.now() + delay);
    this.options.log(id, `${this.crashes} crash(es) in a row: the next replica starts in ${delay / 1000} s${this.crashLooping ? " (crash-looping)" : ""}`);
    setTimeout(() => this.options.changed(), delay).unref();
  }

  private onStartFailure(err: RiffError): void {
    this.lastError = err.message;
    const delay = START_BACKOFF_MS[Math.min(this.failures++, START_BACKOFF_MS.length - 1)] ?? 30_000;
    this.backoffUntil = Date.now() + delay;
    setTimeout(() => this.options.changed(), delay).unref();
    this.options.startFailed(err);
  }
}
