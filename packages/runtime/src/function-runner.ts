import { DEFAULT_FUNCTION_TIMEOUT_MS, formatDuration, HeaderNames, RiffError, toRiffError, type Headers } from "@riff/core";
import type { GroupConsumer, StoredMessage } from "@riff/broker";
import type { PreparedFunction } from "./invoker.js";
import { OffsetTracker } from "./offset-tracker.js";
import { PartitionDispatcher, partitionKey } from "./partition-dispatcher.js";
import { MessageOutlets, replyAddressOf } from "./message-outlets.js";
import type { InvokeResult, Replica } from "./replica.js";
import { DEFAULT_GRACE_MS, ReplicaSet } from "./replica-set.js";
import { SettleChain, withinTimeout } from "./delivery-guards.js";
import { LeaseGuard } from "./lease-guard.js";
import type { FunctionRunnerOptions, RunnerSnapshot, RunnerStatus } from "./runner-types.js";

export type * from "./runner-types.js";
export { DEFAULT_GRACE_MS } from "./replica-set.js";
/** The frame header that asks a replica to run messages with the same value one at a time, in order. */
export const SERIAL_KEY_HEADER = "riff-serial-key";
/** The frame header carrying the message's broker timestamp (ms since the epoch). */
export const TIMESTAMP_HEADER = "riff-timestamp";
/** In a cluster, frame headers saying where a message came from and under which lease generation. */
export const PARTITION_HEADER = "riff-partition";
export const OFFSET_HEADER = "riff-offset";
export const GENERATION_HEADER = "riff-generation";
/** Messages held in memory per function before the runner stops reading its topic. */
const MAX_QUEUED = 4096;
/** @default 3: deliveries of a message whose replica died under it, before it is dead-lettered. */
export const MAX_DELIVERY_ATTEMPTS = 3;
/** How long a function shows as `looping` after a message hit the hop limit. */
const LOOPING_SHOWN_MS = 60_000;

/** The runner's membership of its input topics' groups. */
interface Membership {
  consumers: Map<string, GroupConsumer>;
  loops: Promise<void>[];
  /** Set by leave(): batches that still come are not dispatched. */
  draining: boolean;
}

/**
 * The sidecar of one function: reads its input topic as consumer group `<name>`, starts replicas
 * on demand, dispatches messages to them by partition, publishes results to the output topic,
 * answers `/requests` callers, and commits each offset only after the message was handled, so
 * a crash anywhere means redelivery, never loss.
 */
export class FunctionRunner {
  /** Present while the runner reads its inputs (is a member of its consumer groups). */
  private membership: Membership | undefined;
  private readonly abort = new AbortController();
  private readonly replicas: ReplicaSet;
  private readonly trackers = new Map<string, OffsetTracker>();
  private readonly outlets: MessageOutlets;
  /** Deliveries so far of messages whose replica died under them, by `topic/partition@offset`. */
  private readonly attempts = new Map<string, number>();
  private readonly dispatcher: PartitionDispatcher;
  private roomWaiter: (() => void) | undefined;
  private inFlight = 0;
  /** Called when nothing is in flight any more (a leave waits for it). */
  private settledWaiter: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private lastActivityAt = Date.now();
  private loopedAt = 0;
  /** Per partition (ordered only): when the last message dispatched to it settles. */
  private readonly running = new SettleChain();
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
      outputHasReaders: options.outputHasReaders ?? (() => options.output !== undefined),
      broker: options.broker,
      replies: options.replies,
      logger: options.logger,
      log: (replica, line) => this.log(replica, line),
      touch: () => (this.lastActivityAt = Date.now()),
      signal: this.abort.signal,
    });
    this.dispatcher = new PartitionDispatcher({
      ordered: options.ordered,
      concurrency: () => this.options.concurrency,
      send: (replica, message) => this.dispatch(replica, message),
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
    if (this.abort.signal.aborted) return;
    if (this.membership !== undefined) {
      for (const c of this.membership.consumers.values()) c.setWeight(weight);
      return;
    }
    const { broker, inputs, name } = this.options;
    const m: Membership = { consumers: new Map(), loops: [], draining: false };
    // Offsets are tracked per membership: a message still in flight from an earlier one must
    // not mark the same offset done when it is delivered again now.
    this.trackers.clear();
    for (const input of inputs) {
      const consumer = broker.consume(input, name, { signal: this.abort.signal, weight });
      m.consumers.set(input, consumer);
      m.loops.push(
        this.run(consumer, m).catch((err: unknown) => {
          if (!this.abort.signal.aborted) this.options.logger.error("dispatch loop failed", { input, err: String(err) });
        }),
      );
    }
    this.membership = m;
  }

  /**
   * Stops reading the inputs, handing the partitions over cleanly: messages not yet dispatched
   * are dropped (uncommitted, so the next owner gets them), those in flight finish and are
   * committed (up to the grace period), then the groups are left.
   */
  async leave(): Promise<void> {
    const m = this.membership;
    if (m === undefined) return;
    this.membership = undefined;
    m.draining = true;
    this.dispatcher.clear();
    this.roomWaiter?.();
    await this.settled(this.options.graceMs ?? DEFAULT_GRACE_MS);
    await Promise.all([...m.consumers.values()].map((c) => c.close()));
    await Promise.all(m.loops);
  }

  /** Whether the runner reads its inputs now. */
  get joined(): boolean {
    return this.membership !== undefined;
  }

  /** Starts one replica now and waits until it is ready; `riff create` uses it to surface load errors. */
  async warm(): Promise<void> {
    if (this.replicas.ready().length === 0) await this.replicas.spawn();
  }

  /**
   * Switches to new code once a replica of it is ready; old replicas finish what they hold and
   * stop. Rejects, with the old code still serving, when the new code cannot start.
   */
  async update(code: PreparedFunction, settings: { concurrency: number; timeoutMs?: number | undefined }): Promise<void> {
    await this.replicas.update(code);
    this.options = { ...this.options, code, ...settings };
    // Idle time counts from the new revision: time spent broken is not time spent idle.
    this.lastActivityAt = Date.now();
  }

  /** Stops intake, lets what is in flight finish and commit, then stops the replicas. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.leave();
      this.abort.abort();
      this.roomWaiter?.();
      await this.scaleTo(0);
    })();
    return this.stopping;
  }

  /** Starts or stops replicas until `desired` run (the autoscaler calls this). Starts run in parallel. */
  scaleTo(desired: number): Promise<void> {
    return this.replicas.scaleTo(desired);
  }

  snapshot(): RunnerSnapshot {
    const replicas = this.replicas.all;
    let status: RunnerStatus = replicas.length > 0 ? "running" : "idle";
    if (Date.now() - this.loopedAt < LOOPING_SHOWN_MS) status = "looping";
    const error = this.replicas.lastError;
    if (error !== undefined) status = "failed";
    const assigned = this.dispatcher.assignments();
    return {
      status,
      error,
      revision: this.replicas.revision,
      shape: replicas.find((r) => r.shape !== undefined)?.shape,
      replicas: replicas.map((r) => ({
        id: r.id,
        pid: r.pid,
        state: r.state,
        startedAt: r.startedAt,
        handled: r.handled,
        inFlight: r.inFlight,
        partitions: assigned.get(r.id) ?? [],
      })),
      inFlight: this.inFlight + this.dispatcher.queued,
      lastActivityAt: this.lastActivityAt,
      assigned: [...(this.membership?.consumers ?? [])].flatMap(([topic, c]) => c.assignment().map((p) => `${topic}/${p}`)),
    };
  }

  private async run(consumer: GroupConsumer, m: Membership): Promise<void> {
    for await (const batch of consumer) {
      // Leaving: what comes now stays uncommitted, for the partitions' next owner.
      if (m.draining) continue;
      this.lastActivityAt = Date.now();
      this.dispatcher.enqueue(batch);
      this.pump();
      // Backpressure: stop reading while enough is waiting for replicas.
      while (this.dispatcher.queued >= MAX_QUEUED && !this.abort.signal.aborted && !m.draining) {
        await new Promise<void>((resolve) => (this.roomWaiter = resolve));
      }
    }
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
    if (this.dispatcher.queued < MAX_QUEUED) {
      const wake = this.roomWaiter;
      this.roomWaiter = undefined;
      wake?.();
    }
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
    const key = partitionKey(message);
    const { lease } = message;
    if (lease !== undefined && !lease.held()) {
      // Its partition moved to another node, which delivers it again: nothing to do here.
      this.dispatcher.finished(key);
      return;
    }
    const tracker = this.trackerFor(key);
    const membership = this.membership;
    const id = `${key}@${message.offset}`;
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    if (!this.attempts.has(id)) tracker.begin(message.offset);
    this.inFlight++;
    this.lastActivityAt = Date.now();
    // Each delivery is one more hop; the function sees the count and passes it on, even
    // through the gateway, so a loop the topic graph cannot show is still caught.
    const hops = (Number(message.headers[HeaderNames.hops]?.[0]) || 0) + 1;
    const carried: Headers = { ...message.headers, [HeaderNames.hops]: [String(hops)] };
    if (this.options.replyFromEnd) carried[HeaderNames.replyFrom] = ["end"];
    const headers: Headers = { ...carried, [TIMESTAMP_HEADER]: [String(message.timestamp)] };
    if (this.options.ordered) headers[SERIAL_KEY_HEADER] = [key];
    if (lease !== undefined) {
      // Where it came from and under which claim: a function may record them (riff's tests do).
      headers[PARTITION_HEADER] = [key];
      headers[OFFSET_HEADER] = [String(message.offset)];
      headers[GENERATION_HEADER] = [String(lease.generation)];
    }
    this.leases.begin(lease, replica);
    let work: Promise<InvokeResult | undefined>;
    if (hops > this.options.maxHops) {
      this.loopedAt = Date.now();
      const why = `passed through ${hops - 1} functions, over the hop limit of ${this.options.maxHops}: a loop?`;
      work = this.outlets.written(message, () => this.outlets.deadLetter(message, why, "RIFF_HOP_LIMIT")).then(() => undefined);
    } else if (attempt > MAX_DELIVERY_ATTEMPTS) {
      const why = `the function's process died while handling it, ${MAX_DELIVERY_ATTEMPTS} times`;
      work = this.outlets.written(message, () => this.outlets.deadLetter(message, why, "RIFF_REPLICA_LOST")).then(() => undefined);
    } else if (replica.shape === "stream") work = this.outlets.feedStream(replica, message, headers);
    else work = this.timed(replica, key, id, replica.invoke(headers, message.payload));
    // done: commit; retry: deliver again; abandon: leave uncommitted (riff is stopping), so it
    // runs again after the restart.
    let outcome: "done" | "retry" | "abandon" = "done";
    const moved = () => lease !== undefined && !lease.held();
    work
      .then(
        (result) => {
          // Finished after its partition moved: the new owner publishes and commits it.
          if (moved()) {
            outcome = "abandon";
            return;
          }
          return this.outlets.written(message, () => this.outlets.deliverResult(message, carried, result));
        },
        (err: unknown) => {
          if (moved()) {
            outcome = "abandon";
            return;
          }
          const e = toRiffError(err);
          if (e.code === "RIFF_REPLICA_LOST" || e.code === "RIFF_SHUTTING_DOWN") {
            // Not handled: stopping riff (or the function) is no reason to dead-letter it.
            if (this.abort.signal.aborted) {
              outcome = "abandon";
              return;
            }
            // The process died under the message: it goes again, in order.
            if (e.code === "RIFF_REPLICA_LOST") {
              outcome = "retry";
              this.log(replica.id, `${id} will be delivered again: ${e.message}`);
              return;
            }
          }
          return this.outlets.written(message, () => this.outlets.fail(message, e));
        },
      )
      .catch((err: unknown) => {
        outcome = "abandon";
        this.options.logger.warn("a result was not written before riff stopped; the message runs again after the restart", { message: id, err: String(err) });
      })
      .finally(() => {
        this.leases.end(lease, replica);
        if (--this.inFlight === 0) this.settledWaiter?.();
        this.lastActivityAt = Date.now();
        this.dispatcher.finished(key);
        if (outcome === "abandon") {
          this.attempts.delete(id);
          return;
        }
        if (outcome === "retry") {
          // Only the message the replica was working on counts an attempt; with order kept,
          // that is the partition's oldest. The others were only waiting behind it. A replica
          // riff stopped for another message's timeout died for none of its messages.
          const culprit = !this.retired.has(replica) && (!this.options.ordered || tracker.oldest() === message.offset);
          this.attempts.set(id, culprit ? attempt : attempt - 1);
          this.dispatcher.requeue(message);
          this.pump();
          return;
        }
        this.attempts.delete(id);
        const commitTo = tracker.complete(message.offset);
        if (commitTo !== undefined) {
          membership?.consumers.get(message.topic)?.commit(message.partition, commitTo).catch((err: unknown) => {
            if (!this.abort.signal.aborted) this.options.logger.error("commit failed", { err: String(err) });
          });
        }
        this.pump();
      });
  }

  /**
   * {@link withinTimeout} with this function's timeout, counted from when the message can run:
   * with order kept, a replica runs a partition's messages one at a time, so a message's clock
   * starts when the one before it settles, not while it waits. A stuck replica is retired.
   */
  private timed<T>(replica: Replica, key: string, id: string, work: Promise<T>): Promise<T> {
    const ms = this.options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
    const before = this.options.ordered ? this.running.after(key, work) : undefined;
    const expired = () => {
      this.retire(replica, `${id} ran over the timeout of ${formatDuration(ms)}`);
      return new RiffError("RIFF_FUNCTION_TIMEOUT", `function '${this.options.name}' did not finish the message within ${formatDuration(ms)}`, {
        hint: `if it needs longer, raise spec.timeoutMs in its YAML (e.g. timeoutMs: 5m) and run \`riff update -n ${this.options.name}\`; see what it waits for with \`riff logs -n ${this.options.name}\``,
      });
    };
    if (before === undefined) return withinTimeout(work, ms, expired);
    return before.then(() => withinTimeout(work, ms, expired));
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
