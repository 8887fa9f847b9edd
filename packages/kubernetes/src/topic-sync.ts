import { API_VERSION, toRiffError, type Logger, type TopicSpec } from "@riff/core";
import { firstProblem, topicSchema } from "@riff/core/validation";
import type { Broker } from "@riff/broker";
import { NameHolders } from "./cluster-names.js";
import { inform } from "./informer.js";
import { TOPICS, type KubeApi, type KubeObject } from "./kube-api.js";
import type { EventRecorder, Observed, StatusWriter } from "./status.js";

/** What a {@link TopicSync} needs. */
export interface TopicSyncOptions {
  api: KubeApi;
  broker: Broker;
  status: StatusWriter;
  events: EventRecorder;
  logger: Logger;
  /** Whether this controller may act now (it holds the leader's lease). */
  may: () => boolean;
  namespace?: string | undefined;
}

/**
 * Keeps the riff cluster's topics (streams on NATS) as Topic resources say: created with their
 * partitions, retention and replicas; partitions raised; a decrease refused (messages would
 * lose their partition, and per-key order with them), with a condition that says so. Deleting
 * a Topic resource keeps its stream and messages: `riff topics delete` removes data on purpose.
 */
export class TopicSync {
  constructor(private readonly o: TopicSyncOptions) {}

  /** Follows Topic resources until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const names = new NameHolders("topic");
    for await (const e of inform(this.o.api, TOPICS, signal, this.o.logger, this.o.namespace)) {
      const changed: KubeObject[] = [];
      if (e.type === "listed") {
        names.reset(e.items);
        changed.push(...e.items);
      } else if (e.event.type === "DELETED") {
        const gone = e.event.object;
        const held = names.holds(gone);
        names.delete(gone);
        this.o.status.forget(gone);
        // The name passes to the next namespace that declares it.
        const next = held ? names.holder(gone.metadata.name) : undefined;
        if (next !== undefined) changed.push(next);
      } else {
        const cr = e.event.object;
        const before = names.at(cr);
        const holder = names.holder(cr.metadata.name);
        names.set(cr);
        // Made in the same second as the holder, in a namespace that sorts first: it holds now.
        if (holder !== undefined && names.holder(holder.metadata.name)?.metadata.namespace !== holder.metadata.namespace) changed.push(holder);
        // A status write comes back as an event; only a new generation is news.
        if (before?.metadata.generation !== cr.metadata.generation || cr.status === undefined) changed.push(cr);
      }
      for (const cr of changed) if (this.o.may()) await this.sync(cr, names);
    }
  }

  /** Brings the topic of `cr` to its spec and writes its status; one whose name another namespace holds is refused. */
  async sync(cr: KubeObject, names?: NameHolders): Promise<void> {
    const holder = names?.holder(cr.metadata.name);
    const observed: Observed =
      names !== undefined && holder !== undefined && !names.holds(cr)
        ? { ready: { status: false, reason: "NameTaken", message: names.message(cr, holder) } }
        : await this.observe(cr).catch((err: unknown): Observed => ({ ready: { status: false, reason: "BrokerError", message: toRiffError(err).message } }));
    if (!this.o.may()) return;
    await this.o.status.write(TOPICS, cr, observed);
    if (!observed.ready.status) await this.o.events.record(cr, "Warning", observed.ready.reason, observed.ready.message);
  }

  private async observe(cr: KubeObject): Promise<Observed> {
    const name = cr.metadata.name;
    const doc = { apiVersion: API_VERSION, kind: "Topic", metadata: { name }, spec: cr.spec ?? {} };
    const parsed = topicSchema.safeParse(doc);
    if (!parsed.success) return { ready: { status: false, reason: "InvalidSpec", message: firstProblem(parsed.error.issues, doc, topicSchema) } };
    const spec = parsed.data.spec as TopicSpec;
    const config = { partitions: spec.partitions, retentionMs: spec.retentionMs, retentionBytes: spec.retentionBytes, durability: spec.durability, replicas: spec.replicas };
    const existing = await this.o.broker.getTopic(name, { fresh: true });
    if (existing === undefined) {
      const made = await this.o.broker.createTopic(name, config);
      await this.o.events.record(cr, "Normal", "Created", `topic ${name} created with ${made.partitions} partition(s)`);
      return { ready: { status: true, reason: "Ready", message: `${made.partitions} partition(s)` }, fields: { partitions: made.partitions, stream: name } };
    }
    const wanted = spec.partitions ?? existing.partitions;
    if (wanted < existing.partitions) {
      return {
        ready: { status: false, reason: "PartitionDecreaseRefused", message: `spec.partitions ${wanted} is below the topic's ${existing.partitions}: partitions can only be added (per-key order depends on them); set ${existing.partitions} or more` },
        fields: { partitions: existing.partitions, stream: name },
      };
    }
    let info = existing;
    if (wanted > existing.partitions) {
      info = await this.o.broker.setPartitions(name, wanted);
      await this.o.events.record(cr, "Normal", "Resized", `partitions ${existing.partitions} -> ${wanted}`);
    }
    if (spec.retentionMs !== undefined || spec.retentionBytes !== undefined || spec.durability !== undefined) {
      const { partitions: _p, ...rest } = config;
      info = await this.o.broker.configureTopic(name, rest);
    }
    return { ready: { status: true, reason: "Ready", message: `${info.partitions} partition(s)` }, fields: { partitions: info.partitions, stream: name } };
  }
}
