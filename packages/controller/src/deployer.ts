import { setTimeout as sleep } from "node:timers/promises";
import { deadLetterTopicOf, findCycle, RiffError, toRiffError, type InvokerResource, type Logger, type ResolvedFunction, type TopicResource } from "@riff/core";
import type { Broker } from "@riff/broker";
import type { FunctionCatalog } from "./catalog.js";
import { historyAfter, sameSpec, sameTopology, type RevisionEntry, type StoredFunction } from "./function-spec.js";
import type { InvokerRegistry } from "./invoker-registry.js";
import type { Membership } from "./reconcile.js";
import type { LocalRunnerHost } from "./runner-host.js";
import type { ArtifactStore, ResourceStore } from "./stores.js";
import type { TopicRates } from "./topic-rates.js";
import { reconcileTopic, type ApplyResult } from "./topics.js";
import type { WorkQueue } from "./work-queue.js";

/** Resources parsed and resolved at the API's edge (artifacts as absolute paths on this node). */
export interface ResolvedResources {
  topics: TopicResource[];
  invokers: InvokerResource[];
  functions: ResolvedFunction[];
}

/** What a {@link Deployer} needs. */
export interface DeployerOptions {
  broker: Broker;
  store: ResourceStore<StoredFunction>;
  catalog: FunctionCatalog;
  host: LocalRunnerHost;
  invokers: InvokerRegistry;
  artifacts: ArtifactStore;
  queue: WorkQueue;
  logger: Logger;
  /** Where a Topic's `spec.rate` goes; undefined: rates are not kept. */
  rates?: TopicRates | undefined;
  /**
   * How this node takes part in a function it has just created: one daemon reads its inputs; a
   * cluster node also makes itself the function's first home.
   */
  claim(name: string): Promise<Membership | undefined>;
  /**
   * Whether this node runs `name` (`--runs`). One it does not run is only stored: the nodes
   * that run it build and try it, so a gateway node never runs user code. @default every function
   */
  runsHere?: (name: string) => boolean;
}

/** How long a delete waits for other nodes to let go of the function's groups. */
const GROUP_RELEASE_WAIT_MS = 15_000;

/**
 * Applies and deletes resources: topics in the broker, invokers and functions in the store,
 * after checking them together (a loop in the topic graph, a name used twice). A function's
 * new code is first tried here, so a revision that cannot start is refused with the runtime's
 * own message and the old one keeps serving; then the store is written with compare-and-set,
 * so two conflicting applies give one RIFF_CONFLICT and never a silent overwrite. Other nodes
 * follow the store through their reconcilers.
 */
export class Deployer {
  constructor(private readonly o: DeployerOptions) {}

  async apply(resources: ResolvedResources, dryRun = false, progress?: (line: string) => void): Promise<ApplyResult[]> {
    const { topics, invokers, functions } = resources;
    const results: ApplyResult[] = [];
    // Invokers first: a function in the same apply may use one.
    for (const i of invokers) results.push({ kind: "Invoker", name: i.metadata.name, action: await this.o.invokers.apply(i, dryRun) });
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
      const { action } = await reconcileTopic(this.o.broker, t.metadata.name, { ...t.spec }, this.o.rates);
      results.push({ kind: "Topic", name: t.metadata.name, action });
    }
    for (const f of functions) results.push(await this.o.queue.run(f.name, () => this.applyFunction(f, progress)));
    return results;
  }

  /** Deletes a function (and with `all` its topics no other function uses); says what it kept and why. */
  delete(name: string, all: boolean): Promise<{ deleted: string[]; kept: string[] }> {
    return this.o.queue.run(name, () => this.deleteNow(name, all));
  }

  /** The revisions `name` keeps, oldest first, the current one last. */
  async revisions(name: string): Promise<RevisionEntry[]> {
    const current = await this.o.store.get(name);
    if (current === undefined) throw functionNotFound(name);
    const { history = [], ...now } = current.value;
    return [...history, now];
  }

  /**
   * Rolls `name` back to revision `to` (default: the one before the current): its spec and code
   * become a new revision, with the same safe rollout as an update, so a revision that no longer
   * starts is refused and the current one keeps serving.
   */
  rollback(name: string, to: number | undefined, progress?: (line: string) => void): Promise<ApplyResult> {
    return this.o.queue.run(name, async () => {
      const current = await this.o.store.get(name);
      if (current === undefined) throw functionNotFound(name);
      const history = current.value.history ?? [];
      const target = to === undefined ? history.at(-1) : history.find((h) => h.revision === to);
      if (target === undefined || to === current.value.revision) {
        const kept = history.map((h) => h.revision).join(", ");
        throw new RiffError("RIFF_REVISION_NOT_FOUND", to === current.value.revision ? `function '${name}' runs revision ${to} already` : `function '${name}' keeps no revision ${to === undefined ? "before its current one" : to}${kept === "" ? "" : ` (it keeps ${kept})`}`, {
          hint: `see its revisions with \`riff revisions ${name}\``,
        });
      }
      const { revision: _r, digest, entry: _e, createdAt: _c, updatedAt: _u, ...spec } = target;
      return this.applyFunction(spec, progress, digest);
    });
  }

  private async applyFunction(spec: ResolvedFunction, progress?: (line: string) => void, rollbackDigest?: string): Promise<ApplyResult> {
    const current = await this.o.store.get(spec.name);
    // A rollback's code is in the artifact store already; the user's path may hold newer code.
    const digest = rollbackDigest ?? (await this.o.artifacts.upload(spec.artifact));
    const here = this.o.host.get(spec.name);
    if (current !== undefined && current.value.digest === digest && sameSpec(current.value, spec)) return this.unchanged(current.value);
    const now = new Date().toISOString();
    const fn: StoredFunction = {
      ...spec,
      revision: (current?.value.revision ?? 0) + 1,
      digest,
      entry: "",
      createdAt: current?.value.createdAt ?? now,
      updatedAt: now,
    };
    const history = historyAfter(current?.value);
    if (history !== undefined) fn.history = history;
    if (!(this.o.runsHere?.(fn.name) ?? true)) {
      await this.ensureTopics(fn);
      this.o.catalog.take({ type: "put", name: fn.name, value: fn, revision: await this.o.store.put(fn.name, fn, current?.revision ?? 0) });
      return { kind: "Function", name: fn.name, action: current === undefined ? "created" : "updated", revision: fn.revision };
    }
    const code = await this.o.host.prepare(fn, progress);
    fn.entry = code.artifact === code.dir ? "" : code.artifact.slice(code.dir.length + 1);
    // Only once the code is prepared: code that cannot be installed or built leaves no topics.
    await this.ensureTopics(fn);
    if (current === undefined || here === undefined || !sameTopology(here.fn, fn)) {
      // Stored first: a function that cannot start stays deployed (failed), to be fixed with `riff update`.
      this.o.catalog.take({ type: "put", name: fn.name, value: fn, revision: await this.o.store.put(fn.name, fn, current?.revision ?? 0) });
      await this.o.host.trial(fn, code, await this.o.claim(fn.name));
    } else {
      // Written once a replica of the new code is ready, before it takes a message: if another
      // node's apply wins the write, the old revision never stopped serving here.
      await this.o.host.trial(fn, code, undefined, async () => {
        this.o.catalog.take({ type: "put", name: fn.name, value: fn, revision: await this.o.store.put(fn.name, fn, current.revision) });
      });
    }
    await this.o.host.warm(fn.name);
    const shape = this.o.host.snapshot(fn.name)?.shape;
    return { kind: "Function", name: fn.name, action: current === undefined ? "created" : "updated", revision: fn.revision, shape };
  }

  /** Makes the topics `fn` reads, writes and dead-letters to, where they are missing. */
  private async ensureTopics(fn: ResolvedFunction): Promise<void> {
    for (const input of fn.inputs) await this.o.broker.ensureTopic(input);
    if (fn.output !== undefined) await this.o.broker.ensureTopic(fn.output);
    await this.o.broker.ensureTopic(deadLetterTopicOf(fn));
  }

  /** Same code and settings; a function that failed to start here is tried again at once. */
  private async unchanged(fn: StoredFunction): Promise<ApplyResult> {
    const snap = this.o.host.snapshot(fn.name);
    if (snap?.status !== "failed") return { kind: "Function", name: fn.name, action: "unchanged", revision: fn.revision, shape: snap?.shape };
    // Nothing to roll out, but a function that failed to start may start now (a module it
    // imports was installed, a file it reads appeared): try at once instead of at the backoff.
    await this.o.host.warm(fn.name);
    return { kind: "Function", name: fn.name, action: "restarted", revision: fn.revision, shape: this.o.host.snapshot(fn.name)?.shape };
  }

  private async deleteNow(name: string, all: boolean): Promise<{ deleted: string[]; kept: string[] }> {
    const current = await this.o.store.get(name);
    if (current === undefined) throw functionNotFound(name);
    await this.o.store.delete(name, current.revision);
    this.o.catalog.take({ type: "delete", name, revision: current.revision + 1 });
    await this.o.host.remove(name);
    // Its consumer groups go too: `riff topics describe` would show them lagging forever, and a
    // new function of the same name would start where this one stopped.
    for (const input of current.value.inputs) await this.deleteGroup(input, name);
    const deleted = [`function/${name}`];
    const kept: string[] = [];
    if (all) {
      // Its dead letters go too, unless another function's go there as well.
      for (const topic of [...current.value.inputs, current.value.output, deadLetterTopicOf(current.value)]) {
        if (topic === undefined) continue;
        const users = [...this.o.catalog.usedBy(topic), ...this.o.catalog.deadLettering(topic)];
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

  /** Deletes a group once no node is a member any more (other nodes leave as they see the delete). */
  private async deleteGroup(topic: string, group: string): Promise<void> {
    const deadline = Date.now() + GROUP_RELEASE_WAIT_MS;
    for (;;) {
      if ((await this.o.broker.getTopic(topic)) === undefined) return;
      try {
        await this.o.broker.deleteGroup(topic, group);
        return;
      } catch (err) {
        if (toRiffError(err).code !== "RIFF_INVALID_ARGUMENT" || Date.now() > deadline) {
          this.o.logger.warn("could not delete a deleted function's consumer group", { topic, group, err: String(err) });
          return;
        }
        await sleep(100);
      }
    }
  }

  /**
   * Refuses functions that close a cycle in the topic graph (with what is deployed and what
   * else is applied), unless they say `allowCycle: true`: every message would go round forever.
   */
  private checkCycles(applied: ResolvedFunction[]): void {
    const graph = new Map<string, { name: string; inputs: string[]; output: string | undefined }>();
    for (const fn of this.o.catalog.list()) graph.set(fn.name, fn);
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
}

export function functionNotFound(name: string): RiffError {
  return new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${name}' does not exist`, {
    hint: "see the deployed functions with `riff list`",
  });
}
