import { readFileSync } from "node:fs";
import {
  findCycle,
  RiffError,
  type FunctionResource,
  type InvokerResource,
  type Logger,
  type ResolvedFunction,
  type TopicResource,
} from "@riff/core";
import { parseResources } from "@riff/core/validation";
import type { Broker } from "@riff/broker";
import { FunctionRunner, type ReplySink, type Sandbox } from "@riff/runtime";
import type { FunctionLogs } from "./function-logs.js";
import type { FunctionStore, StoredFunction } from "./function-store.js";
import type { InvokerRegistry } from "./invoker-registry.js";
import { KeyedQueue } from "./keyed-queue.js";
import { reconcileTopic, resolveFunction, sameSpec, withUserPaths, type ApplyResult } from "./resource-apply.js";

export type { ApplyResult } from "./resource-apply.js";

/** One YAML file sent by the CLI: its absolute path (artifacts resolve against it) and text. */
export interface SourceDocument {
  file: string;
  text: string;
}


/** What {@link Deployments} needs. */
export interface DeploymentsOptions {
  broker: Broker;
  store: FunctionStore;
  logs: FunctionLogs;
  replies: ReplySink;
  invokers: InvokerRegistry;
  logger: Logger;
  /** Messages past this many functions go to the dead-letter topic. */
  maxHops: number;
  sandbox: Sandbox | undefined;
  /** Where warm-pool replicas work (error messages name the user's folder instead). */
  poolDir: string;
}

/**
 * Turns applied resources into running things: topics in the broker, functions as runners with
 * their code copied into a revision. Everything is persisted first, so a restart restores it.
 */
export class Deployments {
  readonly runners = new Map<string, { fn: StoredFunction; runner: FunctionRunner }>();
  /** Changes to one function run one at a time. */
  private readonly changes = new KeyedQueue();

  constructor(private readonly o: DeploymentsOptions) {}

  /** Starts a runner for every stored function (after a restart). */
  async restore(): Promise<void> {
    for (const fn of this.o.store.list()) {
      try {
        await this.ensureTopics(fn);
        this.startRunner(fn);
      } catch (err) {
        this.o.logger.error("could not restore function", { fn: fn.name, err: String(err) });
      }
    }
  }

  /** Validates every document first, then applies topics before functions. */
  async apply(documents: SourceDocument[], dryRun = false, progress?: (line: string) => void): Promise<ApplyResult[]> {
    const topics: TopicResource[] = [];
    const invokers: InvokerResource[] = [];
    const functionDocs: { resource: FunctionResource; file: string }[] = [];
    for (const doc of documents) {
      for (const { resource } of parseResources(doc.text, doc.file)) {
        if (resource.kind === "Topic") topics.push(resource);
        else if (resource.kind === "Invoker") invokers.push(resource);
        else functionDocs.push({ resource, file: doc.file });
      }
    }
    // Invokers first: a function in the same apply may use one.
    const results: ApplyResult[] = invokers.map((i) => ({ kind: "Invoker", name: i.metadata.name, action: this.o.invokers.apply(i, dryRun) }));
    const functions = functionDocs.map(({ resource, file }) => resolveFunction(this.o.invokers, resource, file));
    this.checkCycles(functions);
    if (dryRun) {
      return [
        ...results,
        ...topics.map((t) => ({ kind: "Topic" as const, name: t.metadata.name, action: "unchanged" as const })),
        ...functions.map((f) => ({ kind: "Function" as const, name: f.name, action: "unchanged" as const })),
      ];
    }
    for (const t of topics) {
      // Only the fields the document names: the broker's defaults are for new topics alone.
      const { partitions, retentionMs, retentionBytes, durability } = t.spec;
      const { action } = await reconcileTopic(this.o.broker, t.metadata.name, { partitions, retentionMs, retentionBytes, durability });
      results.push({ kind: "Topic", name: t.metadata.name, action });
    }
    for (const f of functions) results.push(await this.changes.run(f.name, () => this.applyFunction(f, progress)));
    return results;
  }

  /** Re-reads a function's YAML and artifact, and rolls out a new revision if they changed. */
  async update(name: string, progress?: (line: string) => void): Promise<ApplyResult[]> {
    const current = this.require(name);
    if (current.fn.source === undefined) return [await this.changes.run(name, () => this.applyFunction({ ...current.fn }))];
    let text: string;
    try {
      text = readFileSync(current.fn.source, "utf8");
    } catch {
      throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `cannot read ${current.fn.source}, the file function '${name}' was created from`, {
        hint: "restore the file, or apply a new one with `riff apply -f FILE`",
      });
    }
    const results = await this.apply([{ file: current.fn.source, text }], false, progress);
    if (!results.some((r) => r.kind === "Function" && r.name === name)) {
      throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `${current.fn.source} no longer declares function '${name}'`);
    }
    return results;
  }

  /** Deletes a function (and with `all` its topics no other function uses); says what it kept and why. */
  delete(name: string, all: boolean): Promise<{ deleted: string[]; kept: string[] }> {
    return this.changes.run(name, () => this.deleteNow(name, all));
  }

  private async deleteNow(name: string, all: boolean): Promise<{ deleted: string[]; kept: string[] }> {
    const { fn, runner } = this.require(name);
    await runner.stop();
    this.runners.delete(name);
    this.o.store.remove(name);
    this.o.logs.remove(name);
    // Its consumer groups go too: `riff topics describe` would show them lagging forever, and a
    // new function of the same name would start where this one stopped.
    for (const input of fn.inputs) {
      if ((await this.o.broker.getTopic(input)) !== undefined) await this.o.broker.deleteGroup(input, name);
    }
    const deleted = [`function/${name}`];
    const kept: string[] = [];
    if (all) {
      for (const topic of [...fn.inputs, fn.output]) {
        if (topic === undefined) continue;
        const users = this.usedBy(topic);
        if (users.length > 0) {
          kept.push(`topic/${topic} kept: function ${users.join(", ")} uses it`);
          continue;
        }
        if ((await this.o.broker.getTopic(topic)) === undefined) continue;
        await this.o.broker.deleteTopic(topic);
        deleted.push(`topic/${topic}`);
      }
    }
    return { deleted, kept };
  }

  /** Functions reading or writing `topic`. */
  usedBy(topic: string): string[] {
    return [...this.runners.values()].filter(({ fn }) => fn.inputs.includes(topic) || fn.output === topic).map(({ fn }) => fn.name);
  }

  require(name: string): { fn: StoredFunction; runner: FunctionRunner } {
    const entry = this.runners.get(name);
    if (entry === undefined) {
      throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${name}' does not exist`, {
        hint: "see the deployed functions with `riff list`",
      });
    }
    return entry;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.runners.values()].map(({ runner }) => runner.stop()));
    this.runners.clear();
  }

  /**
   * Refuses functions that close a cycle in the topic graph (with what is deployed and what
   * else is applied), unless they say `allowCycle: true`: every message would go round forever.
   */
  private checkCycles(applied: ResolvedFunction[]): void {
    const graph = new Map<string, { name: string; inputs: string[]; output: string | undefined }>();
    for (const { fn } of this.runners.values()) graph.set(fn.name, fn);
    for (const fn of applied) graph.set(fn.name, fn);
    for (const fn of applied) {
      if (fn.allowCycle) continue;
      const cycle = findCycle([...graph.values()], fn.name);
      if (cycle === undefined) continue;
      throw new RiffError(
        "RIFF_TOPOLOGY_LOOP",
        `function '${fn.name}' would close a loop: ${cycle.join(" -> ")}; every message on it would go round forever`,
        { hint: "give the function another output topic, or set spec.allowCycle: true (riff create --allow-cycle) if the loop is on purpose; riff stops runaway messages at the hop limit either way" },
      );
    }
  }

  private async applyFunction(spec: ResolvedFunction, progress?: (line: string) => void): Promise<ApplyResult> {
    const digest = this.o.store.digest(spec.artifact);
    const existing = this.runners.get(spec.name);
    const now = new Date().toISOString();
    if (existing !== undefined && existing.fn.digest === digest && sameSpec(existing.fn, spec)) {
      if (existing.runner.snapshot().status !== "failed") {
        return { kind: "Function", name: spec.name, action: "unchanged", revision: existing.fn.revision, shape: existing.runner.snapshot().shape };
      }
      // Nothing to roll out, but a function that failed to start may start now (a module it
      // imports was installed, a file it reads appeared): try at once instead of at the backoff.
      await this.warmOrFail(existing.fn, existing.runner);
      return { kind: "Function", name: spec.name, action: "restarted", revision: existing.fn.revision, shape: existing.runner.snapshot().shape };
    }
    await this.ensureTopics(spec);
    const revision = (existing?.fn.revision ?? 0) + 1;
    const code = this.o.store.prepare(spec, revision);
    const invoker = this.o.invokers.get(spec.invoker);
    if (invoker?.prepare !== undefined) {
      const log = (line: string) => {
        this.o.logs.write(spec.name, { replica: `build-${revision}`, stream: "stderr", line });
        progress?.(`${spec.name}: ${line}`);
      };
      await invoker.prepare(code, log).catch((err: unknown) => {
        throw withUserPaths(err, { revisionDir: code.dir, poolDir: this.o.poolDir }, spec.artifact);
      });
    }
    const fn: StoredFunction = {
      ...spec,
      revision,
      digest,
      entry: code.artifact.slice(code.dir.length + 1),
      createdAt: existing?.fn.createdAt ?? now,
      updatedAt: now,
    };
    let runner: FunctionRunner;
    if (existing === undefined || existing.fn.inputs.join() !== fn.inputs.join() || existing.fn.output !== fn.output || existing.fn.ordering !== fn.ordering) {
      this.o.store.save(fn);
      await existing?.runner.stop();
      runner = this.startRunner(fn);
    } else {
      runner = existing.runner;
      const oldStarted = runner.snapshot().status !== "failed";
      try {
        await runner.update(code, { concurrency: fn.concurrency, timeoutMs: fn.timeoutMs });
      } catch (err) {
        // The old revision keeps serving (if it ever started) and stays the saved one.
        this.o.store.pruneRevisions(fn.name, existing.fn.revision);
        const old = oldStarted ? `so revision ${existing.fn.revision} keeps serving` : `and revision ${existing.fn.revision} did not start either`;
        throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `function '${fn.name}' revision ${revision} failed to start, ${old}:\n${this.userMessage(err, fn)}`, {
          hint: `fix the code, then run \`riff update -n ${fn.name}\` again; see \`riff logs -n ${fn.name}\``,
        });
      }
      this.o.store.save(fn);
      this.runners.set(fn.name, { fn, runner });
    }
    this.o.store.pruneRevisions(fn.name, revision);
    // Start one replica now: a function that cannot load fails `riff create` with the runtime's
    // own message instead of a timeout later. The replica then serves the first messages.
    await this.warmOrFail(fn, runner);
    return { kind: "Function", name: fn.name, action: existing === undefined ? "created" : "updated", revision, shape: runner.snapshot().shape };
  }

  /** Starts a replica now (unless one is ready), failing with the runtime's own message. */
  private async warmOrFail(fn: StoredFunction, runner: FunctionRunner): Promise<void> {
    try {
      await runner.warm();
    } catch (err) {
      throw new RiffError("RIFF_FUNCTION_STARTUP_FAILED", `function '${fn.name}' failed to start:\n${this.userMessage(err, fn)}`, {
        hint: `fix the code, then run \`riff update -n ${fn.name}\`; see \`riff logs -n ${fn.name}\``,
      });
    }
  }

  /** The message of `err`, naming the user's files rather than riff's copies of them. */
  private userMessage(err: unknown, fn: StoredFunction): string {
    return withUserPaths(err, { revisionDir: this.o.store.prepared(fn).dir, poolDir: this.o.poolDir }, fn.artifact).message;
  }

  /** The functions that read `topic`. */
  readersOf(topic: string): string[] {
    return [...this.runners.values()].filter(({ fn }) => fn.inputs.includes(topic)).map(({ fn }) => fn.name);
  }

  private startRunner(fn: StoredFunction): FunctionRunner {
    const invoker = this.o.invokers.get(fn.invoker);
    if (invoker === undefined) throw new RiffError("RIFF_INVOKER_NOT_FOUND", `unknown invoker '${fn.invoker}'`);
    const runner = new FunctionRunner({
      name: fn.name,
      inputs: fn.inputs,
      output: fn.output,
      concurrency: fn.concurrency,
      timeoutMs: fn.timeoutMs,
      ordered: fn.ordering !== "none",
      replyFromEnd: fn.replyFrom === "end",
      outputHasReaders: () => fn.output !== undefined && this.readersOf(fn.output).length > 0,
      maxHops: this.o.maxHops,
      sandbox: this.o.sandbox,
      code: this.o.store.prepared(fn),
      invoker,
      broker: this.o.broker,
      replies: this.o.replies,
      logger: this.o.logger.child({ fn: fn.name }),
      onLog: (line) => this.o.logs.write(fn.name, line),
    });
    this.runners.set(fn.name, { fn, runner });
    runner.start();
    return runner;
  }

  private async ensureTopics(fn: ResolvedFunction): Promise<void> {
    for (const input of fn.inputs) await this.o.broker.ensureTopic(input);
    if (fn.output !== undefined) await this.o.broker.ensureTopic(fn.output);
  }
}
