import { HeaderNames, RiffError, toRiffError, type Headers, type Logger } from "@riff/core";
import type { Broker, GroupConsumer, StoredMessage } from "@riff/broker";
import type { Invoker, PreparedFunction } from "./invoker.js";
import { OffsetTracker } from "./offset-tracker.js";
import type { InvokeResult, LogLine, Replica } from "./replica.js";

/** Where replies to `/requests` callers go: the gateway's waiters, by correlation id. */
export interface ReplySink {
  deliver(correlationId: string, outcome: InvokeResult | RiffError): void;
}

/** @default 10000 ms for a stopping replica to finish what it holds before it is killed. */
export const DEFAULT_GRACE_MS = 10_000;
const START_BACKOFF_MS = [250, 1000, 2000, 5000, 10_000, 30_000] as const;

/** What a runner is given; the daemon builds one per deployed function. */
export interface FunctionRunnerOptions {
  name: string;
  input: string;
  output: string | undefined;
  concurrency: number;
  code: PreparedFunction;
  invoker: Invoker;
  broker: Broker;
  replies: ReplySink;
  logger: Logger;
  onLog: (line: LogLine) => void;
  /** @default DEFAULT_GRACE_MS */
  graceMs?: number;
}

/** `idle`: no replicas; `running`: serving; `failed`: the function could not start. */
export type RunnerStatus = "idle" | "running" | "failed";

/** A snapshot for `riff list` and the scaler. */
export interface RunnerSnapshot {
  status: RunnerStatus;
  error: string | undefined;
  revision: number;
  replicas: { id: string; pid: number | undefined; state: string; startedAt: number; handled: number; inFlight: number }[];
  inFlight: number;
  lastActivityAt: number;
}

/**
 * The sidecar of one function: reads its input topic as consumer group `<name>`, starts replicas
 * on demand, dispatches messages to them, publishes results to the output topic, answers
 * `/requests` callers, and commits each offset only after the message was handled, so a crash
 * anywhere means redelivery, never loss.
 */
export class FunctionRunner {
  private consumer: GroupConsumer | undefined;
  private readonly abort = new AbortController();
  private readonly replicas: Replica[] = [];
  private readonly trackers = new Map<number, OffsetTracker>();
  private readonly slotWaiters: (() => void)[] = [];
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private waiting = 0;
  private replicaSeq = 0;
  private failures = 0;
  private lastError: string | undefined;
  private lastActivityAt = Date.now();

  constructor(private options: FunctionRunnerOptions) {}

  get name(): string {
    return this.options.name;
  }

  /** Joins the input topic's group and starts dispatching. */
  start(): void {
    const { broker, input, name } = this.options;
    this.consumer = broker.consume(input, name, { signal: this.abort.signal });
    this.loop = this.run(this.consumer).catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.options.logger.error("dispatch loop failed", { err: String(err) });
    });
  }

  /** Starts one replica now and waits until it is ready; `riff create` uses it to surface load errors. */
  async warm(): Promise<void> {
    if (this.readyReplicas().length === 0) await this.startReplica();
  }

  /** Switches to new code: new replicas run it, old ones finish what they hold and stop. */
  async update(code: PreparedFunction, concurrency: number): Promise<void> {
    this.options = { ...this.options, code, concurrency };
    this.lastError = undefined;
    this.failures = 0;
    const old = this.replicas.splice(0);
    await Promise.all(old.map((r) => r.stop(this.options.graceMs ?? DEFAULT_GRACE_MS)));
  }

  /** Stops intake, lets replicas drain, then stops them. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeAll();
    await this.consumer?.close();
    await this.loop;
    await this.scaleTo(0);
  }

  /** Starts or stops replicas until `desired` are running (the scaler calls this). */
  async scaleTo(desired: number): Promise<void> {
    while (this.replicas.length > desired) {
      // Stop the least busy; it finishes what it holds first.
      const victim = [...this.replicas].sort((a, b) => a.inFlight - b.inFlight)[0];
      if (victim === undefined) break;
      this.replicas.splice(this.replicas.indexOf(victim), 1);
      this.options.onLog({ replica: victim.id, stream: "stderr", line: `riff: stopping replica (pid ${String(victim.pid)})` });
      await victim.stop(this.options.graceMs ?? DEFAULT_GRACE_MS);
    }
    while (this.replicas.length < desired && !this.abort.signal.aborted) await this.startReplica();
  }

  snapshot(): RunnerSnapshot {
    const status: RunnerStatus = this.lastError !== undefined ? "failed" : this.replicas.length > 0 ? "running" : "idle";
    return {
      status,
      error: this.lastError,
      revision: this.options.code.revision,
      replicas: this.replicas.map((r) => ({
        id: r.id,
        pid: r.pid,
        state: r.state,
        startedAt: r.startedAt,
        handled: r.handled,
        inFlight: r.inFlight,
      })),
      inFlight: this.inFlight + this.waiting,
      lastActivityAt: this.lastActivityAt,
    };
  }

  private async run(consumer: GroupConsumer): Promise<void> {
    for await (const batch of consumer) {
      // Received but not yet dispatched counts as in flight, so the scaler never stops a
      // replica that a message is about to need.
      this.waiting += batch.length;
      this.lastActivityAt = Date.now();
      for (const message of batch) {
        if (this.abort.signal.aborted) return;
        const replica = await this.acquire(message);
        if (replica === undefined) return;
        this.waiting--;
        this.dispatch(replica, message);
      }
    }
  }

  /** Waits for a ready replica with room, starting one if there is none. */
  private async acquire(message: StoredMessage): Promise<Replica | undefined> {
    for (;;) {
      if (this.abort.signal.aborted) return undefined;
      const ready = this.readyReplicas();
      if (ready.length === 0) {
        try {
          await this.startReplica();
        } catch (err) {
          await this.onStartFailure(message, toRiffError(err));
        }
        continue;
      }
      let best: Replica | undefined;
      for (const r of ready) if (best === undefined || r.inFlight < best.inFlight) best = r;
      if (best !== undefined && best.inFlight < this.options.concurrency) return best;
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  private async onStartFailure(message: StoredMessage, err: RiffError): Promise<void> {
    // A caller waiting on this message learns why now, instead of at its timeout. The message
    // stays uncommitted and runs once the function is fixed with `riff update`.
    const cid = message.headers[HeaderNames.correlationId]?.[0];
    if (cid !== undefined) this.options.replies.deliver(cid, err);
    const delay = START_BACKOFF_MS[Math.min(this.failures++, START_BACKOFF_MS.length - 1)] ?? 30_000;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.abort.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private readyReplicas(): Replica[] {
    return this.replicas.filter((r) => r.state === "ready");
  }

  private startReplica(): Promise<void> {
    this.starting ??= this.spawnReplica().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async spawnReplica(): Promise<void> {
    const { code, invoker, name, logger, onLog } = this.options;
    const id = `${name}-${code.revision}-${++this.replicaSeq}`;
    const replica = invoker.createReplica(code, { id, onLog, logger });
    this.replicas.push(replica);
    try {
      await replica.start();
    } catch (err) {
      this.replicas.splice(this.replicas.indexOf(replica), 1);
      this.lastError = (err as Error).message;
      onLog({ replica: id, stream: "stderr", line: `riff: replica failed to start: ${(err as Error).message}` });
      throw err;
    }
    this.failures = 0;
    this.lastError = undefined;
    onLog({ replica: id, stream: "stderr", line: `riff: replica started (pid ${String(replica.pid)}, revision ${code.revision})` });
    void replica.exited.then((how) => {
      const i = this.replicas.indexOf(replica);
      if (i !== -1) {
        this.replicas.splice(i, 1);
        onLog({ replica: id, stream: "stderr", line: `riff: replica exited unexpectedly (${how})` });
      }
      this.wakeAll();
    });
  }

  private dispatch(replica: Replica, message: StoredMessage): void {
    const tracker = this.trackerFor(message.partition);
    tracker.begin(message.offset);
    this.inFlight++;
    this.lastActivityAt = Date.now();
    replica
      .invoke(message.headers, message.payload)
      .then(
        (result) => this.onResult(message, result),
        (err: unknown) => this.onError(message, toRiffError(err)),
      )
      .catch((err: unknown) => this.options.logger.error("handling a result failed", { err: String(err) }))
      .finally(() => {
        this.inFlight--;
        this.lastActivityAt = Date.now();
        const commitTo = tracker.complete(message.offset);
        if (commitTo !== undefined) {
          this.consumer?.commit(message.partition, commitTo).catch((err: unknown) => {
            this.options.logger.error("commit failed", { err: String(err) });
          });
        }
        this.slotWaiters.shift()?.();
      });
  }

  private async onResult(message: StoredMessage, result: InvokeResult): Promise<void> {
    const cid = message.headers[HeaderNames.correlationId]?.[0];
    if (cid !== undefined) this.options.replies.deliver(cid, result);
    const output = this.options.output;
    if (output !== undefined) {
      await this.options.broker.publish(output, {
        headers: carryHeaders(message.headers, result.headers),
        payload: result.payload,
      });
    }
  }

  private onError(message: StoredMessage, err: RiffError): void {
    const cid = message.headers[HeaderNames.correlationId]?.[0];
    if (cid !== undefined) this.options.replies.deliver(cid, err);
    this.options.onLog({
      replica: this.options.name,
      stream: "stderr",
      line: `riff: ${message.topic}/${message.partition}@${message.offset} failed: ${err.code}: ${err.message}`,
    });
  }

  private trackerFor(partition: number): OffsetTracker {
    let t = this.trackers.get(partition);
    if (t === undefined) this.trackers.set(partition, (t = new OffsetTracker()));
    return t;
  }

  private wakeAll(): void {
    for (const w of this.slotWaiters.splice(0)) w();
  }
}

/** The output message keeps the input's headers (correlation id, trace, user headers) but the reply's content type. */
function carryHeaders(input: Headers, reply: Headers): Headers {
  const out: Headers = { ...input, ...reply };
  delete out[HeaderNames.accept];
  return out;
}
