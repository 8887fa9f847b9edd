import { DEFAULT_FUNCTION_TIMEOUT_MS, preciseNow, retriesOf, type RiffError, toRiffError } from "@riff/core";
import { finish, invocationRecord, type Ended } from "./invocation-record.js";
import type { GroupConsumer, StoredMessage } from "@riff/broker";
import type { PreparedFunction } from "./invoker.js";
import { OffsetTracker } from "./offset-tracker.js";
import { PartitionDispatcher } from "./partition-dispatcher.js";
import { MessageOutlets, replyAddressOf } from "./message-outlets.js";
import type { InvokeResult, Replica } from "./replica.js";
import { DEFAULT_GRACE_MS, ReplicaSet } from "./replica-set.js";
import { MessageTimeouts } from "./delivery-guards.js";
import { LeaseGuard } from "./lease-guard.js";
import { limitFailure } from "./limits.js";
import { Intake } from "./intake.js";
import { describeDelivery, type Delivery, type Outcome } from "./delivery.js";
import { FailedMessages } from "./failed-messages.js";
import { riffCause } from "./dead-letter.js";
import type { FunctionRunnerOptions, RunnerSnapshot } from "./runner-types.js";
import { snapshotOf } from "./runner-snapshot.js";

export type * from "./runner-types.js";
export { DEFAULT_GRACE_MS } from "./replica-set.js";
export { SERIAL_KEY_HEADER, TIMESTAMP_HEADER, PARTITION_HEADER, OFFSET_HEADER, GENERATION_HEADER } from "./delivery.js";
/** Messages held in memory per function before the runner stops reading its topic. */
const MAX_QUEUED = 4096;
/** @default 3: deliveries of a message whose replica died under it, before it is dead-lettered. */
export const MAX_DELIVERY_ATTEMPTS = 3;
/** How long a function shows as `looping` after a message hit the hop limit. */
const LOOPING_SHOWN_MS = 60_000;


/**
 * The sidecar of one function: reads its input topic as consumer group `<name>`, starts replicas
 * on demand, dispatches messages to them by partition, publishes results to the output topic,
 * answers `/requests` callers, and commits each offset only after the message was handled, so
 * a crash anywhere means redelivery, never loss.
 */
export class FunctionRunner {
  private readonly abort = new AbortController();
  private readonly intake: Intake;
  private readonly replicas: ReplicaSet;
  private readonly trackers = new Map<string, OffsetTracker>();
  private readonly outlets: MessageOutlets;
  /** Deliveries so far of messages whose replica died under them, by `topic/partition@offset`. */
  private readonly attempts = new Map<string, number>();
  private readonly dispatcher: PartitionDispatcher;
  /** Messages the function failed on: answered, retried after a backoff, or dead-lettered. */
  private readonly failed: FailedMessages;
  private inFlight = 0;
  /** Called when nothing is in flight any more (a leave waits for it). */
  private settledWaiter: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private lastActivityAt = Date.now();
  private loopedAt = 0;
  /** The function's timeout on each message; a stuck replica is retired. */
  private readonly timeouts: MessageTimeouts;
  /** Replicas riff stopped because a message ran over the timeout, or its partition moved. */
  private readonly retired = new WeakSet<Replica>();
  /** Stops replicas still working under a lease that was lost. */
  private readonly leases = new LeaseGuard((replica, why) => this.retire(replica, why));

  constructor(private options: FunctionRunnerOptions) {
    this.replicas = new ReplicaSet({
      ...options,
      signal: this.abort.signal,
      changed: () => this.pump(),
      startFailed: (err) => this.failQueued(err),
      log: (replica, line) => this.log(replica, line),
    });
    this.outlets = new MessageOutlets({
      name: options.name,
      output: options.output,
      deadLetter: options.deadLetter,
      outputHasReaders: options.outputHasReaders ?? (() => options.output !== undefined),
      broker: options.broker,
      replies: options.replies,
      logger: options.logger,
      log: (replica, line) => this.log(replica, line),
      deadLettered: (code) => options.telemetry?.deadLetter(options.name, code),
      touch: () => (this.lastActivityAt = Date.now()),
      signal: this.abort.signal,
    });
    this.timeouts = new MessageTimeouts({
      name: options.name,
      ordered: options.ordered,
      timeoutMs: () => this.options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
      retire: (replica, why) => this.retire(replica, why),
    });
    this.failed = new FailedMessages({ outlets: this.outlets, retries: () => retriesOf(this.options), log: (line) => this.log(options.name, line) });
    this.dispatcher = new PartitionDispatcher({
      ordered: options.ordered,
      concurrency: () => this.options.concurrency,
      send: (replica, message) => this.dispatch(replica, message),
    });
    this.intake = new Intake({
      broker: options.broker,
      name: options.name,
      inputs: options.inputs,
      signal: this.abort.signal,
      received: (batch) => {
        this.lastActivityAt = Date.now();
        this.dispatcher.enqueue(batch);
        this.pump();
      },
      full: () => this.dispatcher.queued >= MAX_QUEUED,
      logger: options.logger,
    });
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * Reads the inputs: joins each input topic's group `<name>` with `weight` (or changes the
   * weight, when it reads already) and dispatches what it gets. A runner that does not read (in
   * a cluster, on a node the function is not placed on) still runs replicas when asked, e.g. to
   * try a new revision.
   */
  join(weight = 1): void {
    // Offsets are tracked per membership: a message still in flight from an earlier one must
    // not mark the same offset done when it is delivered again now.
    if (this.intake.join(weight)) this.trackers.clear();
  }

  /**
   * Stops reading the inputs, handing the partitions over cleanly: messages not yet dispatched
   * are dropped (uncommitted, so the next owner gets them), those in flight finish and are
   * committed (up to the grace period), then the groups are left.
   */
  leave(): Promise<void> {
    return this.intake.leave(async () => {
      this.dispatcher.clear();
      // Messages waiting out a backoff stay uncommitted: the next owner runs them again.
      for (const id of this.failed.cancel()) this.attempts.delete(id);
      await this.settled(this.options.graceMs ?? DEFAULT_GRACE_MS);
    });
  }

  /** Whether the runner reads its inputs now. */
  get joined(): boolean {
    return this.intake.joined;
  }

  /** Starts one replica now and waits until it is ready; `riff create` uses it to surface load errors. */
  async warm(): Promise<void> {
    if (this.replicas.ready().length === 0) await this.replicas.spawn();
  }

  /**
   * Switches to new code once a replica of it is ready; old replicas finish what they hold and
   * stop. Rejects, with the old code still serving, when the new code cannot start or `commit`
   * (run just before the switch) fails.
   */
  async update(code: PreparedFunction, settings: { concurrency: number; timeoutMs?: number | undefined; retries?: number | undefined }, commit?: () => Promise<void>): Promise<void> {
    await this.replicas.update(code, commit);
    this.options = { ...this.options, code, ...settings };
    // Idle time counts from the new revision: time spent broken is not time spent idle.
    this.lastActivityAt = Date.now();
  }

  /** Stops intake, lets what is in flight finish and commit, then stops the replicas. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.leave();
      this.abort.abort();
      this.intake.room();
      await this.scaleTo(0);
    })();
    return this.stopping;
  }

  /** Starts or stops replicas until `desired` run (the autoscaler calls this). Starts run in parallel. */
  scaleTo(desired: number): Promise<void> {
    return this.replicas.scaleTo(desired);
  }

  snapshot(): RunnerSnapshot {
    const assigned = this.intake.assigned();
    return snapshotOf(this.replicas, {
      looping: Date.now() - this.loopedAt < LOOPING_SHOWN_MS,
      assignments: this.dispatcher.assignments(this.replicas.ready(), assigned),
      inFlight: this.inFlight + this.dispatcher.queued + this.failed.waiting,
      lastActivityAt: this.lastActivityAt,
      assigned,
    });
  }

  /** Resolves once nothing is in flight, or after `ms`. */
  private async settled(ms: number): Promise<void> {
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.settledWaiter = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.settledWaiter = undefined;
  }

  /** Dispatches what fits; starts the first replica when messages wait and none runs (0 -> 1). */
  private pump(): void {
    this.dispatcher.pump(this.replicas.ready());
    if (this.dispatcher.queued < MAX_QUEUED) this.intake.room();
    // After failed starts the set calls back here once its wait is over.
    if (this.dispatcher.queued > 0 && this.replicas.empty && this.replicas.backoffLeft() === 0 && !this.abort.signal.aborted) {
      this.replicas.spawn().catch(() => {});
    }
  }

  /**
   * A replica could not start. Callers waiting on queued messages learn why now, instead of at
   * their timeout. The messages stay uncommitted and run once the function is fixed with
   * `riff update`.
   */
  private failQueued(err: RiffError): void {
    this.dispatcher.forEachQueued((m) => {
      const to = replyAddressOf(m);
      if (to !== undefined) void this.options.replies.deliver(to, err);
    });
  }

  private dispatch(replica: Replica, message: StoredMessage): void {
    void this.deliver(replica, message);
  }

  /** One delivery, start to end: checked, run, its outcome written, settled. */
  private async deliver(replica: Replica, message: StoredMessage): Promise<void> {
    const d = describeDelivery(message, this.options);
    const { lease } = message;
    if (lease !== undefined && !lease.held()) {
      // Its partition moved to another node, which delivers it again: nothing to do here.
      this.dispatcher.finished(d.key);
      return;
    }
    const tracker = this.trackerFor(d.key);
    const consumers = this.intake.consumers();
    const attempt = (this.attempts.get(d.id) ?? 0) + 1;
    if (!this.attempts.has(d.id)) tracker.begin(message.offset);
    this.inFlight++;
    this.lastActivityAt = Date.now();
    this.leases.begin(lease, replica);
    this.replicas.hops.begin(replica.id, d.hops);
    const ended: Ended = { startedAt: preciseNow(), clock: performance.now(), initMs: this.replicas.takeCold(replica, message.timestamp), status: undefined, error: undefined };
    const run = attempt + this.failed.failures(d.id);
    let outcome: Outcome;
    try {
      outcome = await this.runMessage(replica, message, d, attempt, ended);
    } catch (err) {
      // Only once riff stops (or the partition moved): the write of a result is tried until then.
      outcome = "abandon";
      if (lease !== undefined && !lease.held()) this.options.logger.debug("a result was not written: the partition moved to another node, which handles the message again", { message: d.id });
      else this.options.logger.warn("a result was not written before riff stopped; the message runs again after the restart", { message: d.id, err: String(err) });
    }
    this.leases.end(lease, replica);
    this.replicas.hops.end(replica.id, d.hops);
    if (--this.inFlight === 0) this.settledWaiter?.();
    this.lastActivityAt = Date.now();
    this.dispatcher.finished(d.key);
    this.tell(replica, message, d, run, ended, outcome);
    this.settle(replica, message, d, attempt, outcome, tracker, consumers);
  }

  /** Tells telemetry what the run came to: an invocation record, a cold start, a retry. */
  private tell(replica: Replica, message: StoredMessage, d: Delivery, attempt: number, ended: Ended, outcome: Outcome): void {
    const { telemetry } = this.options;
    if (telemetry === undefined || ended.status === undefined) return;
    const { name, code, invoker, node } = this.options;
    if (ended.initMs !== undefined) telemetry.coldStart({ function: name, invoker: invoker.name, initMs: ended.initMs });
    telemetry.invocation(invocationRecord({ fn: name, revision: code.revision, node, replica: replica.id, message, delivery: d, attempt, ended }));
    if (outcome === "backoff") telemetry.retry(name);
  }

  /**
   * Runs the message and writes what came of it: its result (reply, output), its failure (to
   * the caller or the dead letters), or why riff will not run it (hop limit, a poison
   * message). `retry`: its replica died under it; `abandon`: riff is stopping or the
   * partition moved, so it stays uncommitted for whoever handles it next.
   */
  private async runMessage(replica: Replica, message: StoredMessage, d: Delivery, attempt: number, ended: Ended): Promise<Outcome> {
    const moved = () => message.lease !== undefined && !message.lease.held();
    const { outlets } = this;
    if (d.hops > this.options.maxHops) {
      this.loopedAt = Date.now();
      const why = `passed through ${d.hops - 1} functions, over the hop limit of ${this.options.maxHops}: a loop?`;
      await outlets.written(message, () => outlets.deadLetter(message, riffCause("RIFF_HOP_LIMIT", why, attempt)));
      return "done";
    }
    if (attempt > MAX_DELIVERY_ATTEMPTS) {
      const why = `the function's process died while handling it, ${MAX_DELIVERY_ATTEMPTS} times`;
      await outlets.written(message, () => outlets.deadLetter(message, riffCause("RIFF_REPLICA_LOST", why, MAX_DELIVERY_ATTEMPTS)));
      return "done";
    }
    let result: InvokeResult | undefined;
    try {
      result = replica.shape === "stream" ? await outlets.feedStream(replica, message, d.headers) : await this.timeouts.timed(replica, d.key, d.id, replica.invoke(d.headers, message.payload));
    } catch (err) {
      if (moved()) return "abandon";
      // A limit that struck is the failure's name, not a lost replica delivered again at once:
      // the message fails (and is retried with backoff when no caller waits).
      // A limit told by the process's last words (rlimits) is known once they are read.
      if (toRiffError(err).code === "RIFF_REPLICA_LOST") await replica.limitSettled?.();
      const e = limitFailure(replica) ?? toRiffError(err);
      // Not handled: stopping riff (or the function) is no reason to dead-letter it.
      if ((e.code === "RIFF_REPLICA_LOST" || e.code === "RIFF_SHUTTING_DOWN") && this.abort.signal.aborted) return "abandon";
      finish(ended, e.code === "RIFF_FUNCTION_TIMEOUT" ? "timeout" : "error", e);
      if (e.code === "RIFF_REPLICA_LOST") {
        // The process died under the message: it goes again, in order.
        this.log(replica.id, `${d.id} will be delivered again: ${e.message}`);
        return "retry";
      }
      return this.failed.fail(message, d.id, e);
    }
    // Finished after its partition moved: the new owner publishes and commits it.
    if (moved()) return "abandon";
    finish(ended, "success");
    await outlets.written(message, () => outlets.deliverResult(message, d.carried, result));
    return "done";
  }

  /** Commits a message that is done, puts back one to retry, forgets one abandoned; then dispatches more. */
  private settle(replica: Replica, message: StoredMessage, d: Delivery, attempt: number, outcome: Outcome, tracker: OffsetTracker, consumers: ReadonlyMap<string, GroupConsumer> | undefined): void {
    if (outcome === "abandon") {
      this.attempts.delete(d.id);
      this.failed.forget(d.id);
      this.dispatcher.unpark(message);
      return;
    }
    if (outcome === "backoff") {
      // Not counted as a delivery lost with its replica; kept so that it is not begun twice.
      this.attempts.set(d.id, attempt - 1);
      this.dispatcher.park(message);
      this.failed.later(d.id, () => {
        // A backoff that ends after the partitions were left (or dealt again) is moot.
        if (this.abort.signal.aborted || this.intake.consumers() !== consumers) return void this.attempts.delete(d.id);
        this.dispatcher.requeue(message);
        this.pump();
      });
      this.pump();
      return;
    }
    if (outcome === "retry") {
      // Only the message the replica was working on counts an attempt; with order kept,
      // that is the partition's oldest. The others were only waiting behind it. A replica
      // riff stopped for another message's timeout died for none of its messages.
      const culprit = !this.retired.has(replica) && (!this.options.ordered || tracker.oldest() === message.offset);
      this.attempts.set(d.id, culprit ? attempt : attempt - 1);
      this.dispatcher.requeue(message);
      this.pump();
      return;
    }
    this.attempts.delete(d.id);
    this.failed.forget(d.id);
    this.dispatcher.unpark(message);
    const commitTo = tracker.complete(message.offset);
    if (commitTo !== undefined) {
      // Through the consumer it came from: one of a membership since left is closed and ignores it.
      consumers?.get(message.topic)?.commit(message.partition, commitTo).catch((err: unknown) => {
        if (!this.abort.signal.aborted) this.options.logger.error("commit failed", { err: String(err) });
      });
    }
    this.pump();
  }

  /** Stops a replica at once (stuck, or working on a partition that moved); its other messages go again, uncounted. */
  private retire(replica: Replica, why: string): void {
    if (this.retired.has(replica)) return;
    this.retired.add(replica);
    this.replicas.retire(replica, why);
  }

  private log(replica: string, line: string): void {
    this.options.onLog({ replica, stream: "stderr", line: `riff: ${line}` });
  }

  private trackerFor(partition: string): OffsetTracker {
    let t = this.trackers.get(partition);
    if (t === undefined) this.trackers.set(partition, (t = new OffsetTracker()));
    return t;
  }
}

