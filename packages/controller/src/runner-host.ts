import { deadLetterTopicOf, RiffError, type Logger, type TelemetrySink } from "@riff/core";
import type { Broker } from "@riff/broker";
import { FunctionRunner, type LogLine, type PreparedFunction, type ReplySink, type RunnerSnapshot, type Sandbox, type Limiter, type CallerRegistry } from "@riff/runtime";
import { sameTopology, type StoredFunction } from "./function-spec.js";
import type { InvokerRegistry } from "./invoker-registry.js";
import type { Action, Membership, ObservedFunction, RunnerHost } from "./reconcile.js";
import type { RevisionFolders } from "./revisions.js";
import { secretEnv, type SecretStore } from "./secrets.js";
import { withUserPaths } from "./user-paths.js";

/** What a {@link LocalRunnerHost} needs. */
export interface RunnerHostOptions {
  broker: Broker;
  replies: ReplySink;
  invokers: InvokerRegistry;
  revisions: RevisionFolders;
  logger: Logger;
  /** Messages past this many functions go to the dead-letter topic. */
  maxHops: number;
  sandbox: Sandbox | undefined;
  /** Where replicas' limits are written; undefined: not enforced. */
  limiter: Limiter | undefined;
  /** Gives each replica a gateway path of its own, so its publishes carry its hop count. */
  callers: CallerRegistry | undefined;
  /** The secrets functions may name (spec.secrets); their values reach only those replicas' environment. */
  secrets: SecretStore | undefined;
  /** Where warm-pool replicas work (error messages name the user's folder instead). */
  poolDir: string;
  /** A line for the function's log. */
  onLog(fn: string, line: LogLine): void;
  /** A function's runner is gone for good (deleted): its logs may go too. */
  onRemoved(fn: string): void;
  /** The functions that read `topic`, anywhere. */
  readersOf(topic: string): string[];
  /** Where the runners tell what they did (metrics, invocation records, the dashboard). */
  telemetry?: TelemetrySink | undefined;
  /** This cluster node's name (absent on one daemon). */
  node?: string | undefined;
}

/** One function running here. */
interface Entry {
  fn: StoredFunction;
  runner: FunctionRunner;
  membership: Membership | undefined;
  placementGeneration: number | undefined;
}

/**
 * The runners of this process, one per function: the side of the reconciler that touches
 * processes. It starts, rolls, replaces and stops runners, and has them read their inputs or
 * not, as {@link reconcileFunction}'s actions say. The same host serves one daemon and a
 * cluster node; the Kubernetes controller's host applies Deployments instead.
 */
export class LocalRunnerHost implements RunnerHost {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly o: RunnerHostOptions) {}

  observe(name: string): ObservedFunction | undefined {
    const e = this.entries.get(name);
    return e === undefined ? undefined : { fn: e.fn, membership: e.membership, placementGeneration: e.placementGeneration };
  }

  /** The function and its runner, for the admin API and the autoscaler. */
  get(name: string): { fn: StoredFunction; runner: FunctionRunner } | undefined {
    return this.entries.get(name);
  }

  list(): { fn: StoredFunction; runner: FunctionRunner }[] {
    return [...this.entries.values()].sort((a, b) => a.fn.name.localeCompare(b.fn.name));
  }

  snapshot(name: string): RunnerSnapshot | undefined {
    return this.entries.get(name)?.runner.snapshot();
  }

  async apply(action: Action): Promise<void> {
    switch (action.type) {
      case "start":
        this.create(action.fn, await this.prepare(action.fn));
        return;
      case "roll":
        await this.roll(action.fn, await this.prepare(action.fn));
        return;
      case "replace": {
        const code = await this.prepare(action.fn);
        await this.entries.get(action.fn.name)?.runner.stop();
        this.create(action.fn, code);
        return;
      }
      case "stop":
        await this.remove(action.name);
        return;
      case "join": {
        const e = this.require(action.name);
        await this.inputsExist(e.fn);
        e.runner.join(action.weight);
        e.membership = { weight: action.weight };
        return;
      }
      case "leave": {
        const e = this.require(action.name);
        e.membership = undefined;
        await e.runner.leave();
        return;
      }
      case "scale": {
        const e = this.require(action.name);
        e.placementGeneration = action.generation;
        void e.runner.scaleTo(action.replicas);
        return;
      }
    }
  }

  /** Builds (or finds) the code of `fn`'s revision on this node; build errors name the user's files. */
  async prepare(fn: StoredFunction, progress?: (line: string) => void): Promise<PreparedFunction> {
    const invoker = this.o.invokers.get(fn.invoker);
    if (invoker === undefined) throw new RiffError("RIFF_INVOKER_NOT_FOUND", `unknown invoker '${fn.invoker}' (function '${fn.name}')`);
    const log = (line: string) => {
      this.o.onLog(fn.name, { replica: `build-${fn.revision}`, stream: "stderr", line });
      progress?.(`${fn.name}: ${line}`);
    };
    try {
      const code = await this.o.revisions.prepare(fn, invoker, log);
      // Read at each start of a revision: an updated secret reaches the next `riff update`.
      const secrets = await secretEnv(this.o.secrets, fn.name, fn.secrets ?? []);
      return Object.keys(secrets).length === 0 ? code : { ...code, env: { ...code.env, ...secrets } };
    } catch (err) {
      this.o.revisions.prune(fn.name, this.keep(fn.name));
      throw withUserPaths(err, { revisionDir: this.o.revisions.folder(fn.name, fn.revision), poolDir: this.o.poolDir }, fn.artifact);
    }
  }

  /**
   * The apply path on the node where `riff apply` ran: this node runs `fn` now. A runner that can
   * take it rolls to it, and only once a replica of the new revision is ready; if none can
   * start, this rejects with the runtime's message and the old revision keeps serving. A new
   * function (or one whose topics changed) gets a new runner, reading its inputs when
   * `membership` says so. `commit` (the store's write) runs once the new revision may take
   * over: if it fails, with its own error, nothing here changed.
   */
  async trial(fn: StoredFunction, code: PreparedFunction, membership: Membership | undefined, commit?: () => Promise<void>): Promise<void> {
    const e = this.entries.get(fn.name);
    if (e !== undefined && sameTopology(e.fn, fn)) {
      const old = e.fn.revision;
      const oldStarted = e.runner.snapshot().status !== "failed";
      // The commit's own failure (a conflicting write) is passed on as it is.
      let refused: { err: unknown } | undefined;
      const committing = commit === undefined ? undefined : () => commit().catch((err: unknown) => {
        refused = { err };
        throw err;
      });
      try {
        await this.roll(fn, code, committing);
      } catch (err) {
        if (refused !== undefined) throw refused.err;
        const kept = oldStarted ? `so revision ${old} keeps serving` : `and revision ${old} did not start either`;
        throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `function '${fn.name}' revision ${fn.revision} failed to start, ${kept}:\n${this.userMessage(err, fn)}`, {
          hint: `fix the code, then run \`riff update -n ${fn.name}\` again; see \`riff logs -n ${fn.name}\``,
        });
      }
      return;
    }
    await commit?.();
    await e?.runner.stop();
    const created = this.create(fn, code);
    if (membership !== undefined) {
      await this.inputsExist(fn);
      created.runner.join(membership.weight);
      created.membership = membership;
    }
  }

  /**
   * Makes sure the function's input topics exist, and that the broker knows them, before the
   * runner reads them: in a cluster another node may have made them (reading starts
   * synchronously), and a topic deleted by hand comes back, as a deployed function needs it.
   */
  private async inputsExist(fn: StoredFunction): Promise<void> {
    for (const input of fn.inputs) await this.o.broker.ensureTopic(input);
  }

  /** Starts a replica now (unless one is ready), failing with the runtime's own message. */
  async warm(name: string): Promise<void> {
    const e = this.require(name);
    try {
      await e.runner.warm();
    } catch (err) {
      throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `function '${name}' failed to start:\n${this.userMessage(err, e.fn)}`, {
        hint: `fix the code, then run \`riff update -n ${name}\`; see \`riff logs -n ${name}\``,
      });
    }
  }

  /** Stops every runner (the daemon is stopping): what is in flight finishes first. */
  async stop(): Promise<void> {
    await Promise.all([...this.entries.values()].map(({ runner }) => runner.stop()));
    this.entries.clear();
  }

  /** Stops a function's runner for good and removes its code and logs here. */
  async remove(name: string): Promise<void> {
    const e = this.entries.get(name);
    this.entries.delete(name);
    await e?.runner.stop();
    this.o.revisions.remove(name);
    this.o.onRemoved(name);
  }

  private async roll(fn: StoredFunction, code: PreparedFunction, commit?: () => Promise<void>): Promise<void> {
    const e = this.require(fn.name);
    try {
      await e.runner.update(code, { concurrency: fn.concurrency, timeoutMs: fn.timeoutMs, retries: fn.retries }, commit);
    } catch (err) {
      this.o.revisions.prune(fn.name, [e.fn.revision]);
      throw err;
    }
    e.fn = fn;
    this.o.revisions.prune(fn.name, [fn.revision]);
  }

  private create(fn: StoredFunction, code: PreparedFunction): Entry {
    const invoker = this.o.invokers.get(fn.invoker);
    if (invoker === undefined) throw new RiffError("RIFF_INVOKER_NOT_FOUND", `unknown invoker '${fn.invoker}'`);
    const runner = new FunctionRunner({
      name: fn.name,
      inputs: fn.inputs,
      output: fn.output,
      deadLetter: deadLetterTopicOf(fn),
      retries: fn.retries,
      concurrency: fn.concurrency,
      timeoutMs: fn.timeoutMs,
      ordered: fn.ordering !== "none",
      replyFromEnd: fn.replyFrom === "end",
      outputHasReaders: () => fn.output !== undefined && this.o.readersOf(fn.output).length > 0,
      maxHops: this.o.maxHops,
      sandbox: this.o.sandbox,
      limiter: this.o.limiter,
      callers: this.o.callers,
      telemetry: this.o.telemetry,
      node: this.o.node,
      code,
      invoker,
      broker: this.o.broker,
      replies: this.o.replies,
      logger: this.o.logger.child({ fn: fn.name }),
      onLog: (line) => this.o.onLog(fn.name, line),
    });
    const entry: Entry = { fn, runner, membership: undefined, placementGeneration: undefined };
    this.entries.set(fn.name, entry);
    this.o.revisions.prune(fn.name, [fn.revision]);
    return entry;
  }

  /** Revisions of `name` still in use here. */
  private keep(name: string): number[] {
    const e = this.entries.get(name);
    return e === undefined ? [] : [e.fn.revision];
  }

  private require(name: string): Entry {
    const e = this.entries.get(name);
    if (e === undefined) throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${name}' does not run here`);
    return e;
  }

  /** The message of `err`, naming the user's files rather than riff's copies of them. */
  private userMessage(err: unknown, fn: StoredFunction): string {
    return withUserPaths(err, { revisionDir: this.o.revisions.folder(fn.name, fn.revision), poolDir: this.o.poolDir }, fn.artifact).message;
  }
}
