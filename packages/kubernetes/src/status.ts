import type { Logger } from "@riff/core";
import { EVENTS, type KindRef, type KubeApi, type KubeObject } from "./kube-api.js";

/** One condition, as Kubernetes' own kinds write them. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/** What the controller says of a resource: whether it is Ready, and why; plus kind-specific fields. */
export interface Observed {
  ready: { status: boolean; reason: string; message: string };
  fields?: Record<string, unknown>;
}

/** A change to what is said: either part may be left out and stays as it was. */
export type ObservedChange = Partial<Observed>;

const key = (cr: KubeObject) => `${cr.kind}/${cr.metadata.namespace ?? ""}/${cr.metadata.name}`;

/**
 * Writes the status of riff's resources through their /status subresource, only when it
 * changed: a status write is a watch event for everyone, and an unchanged one would feed a
 * loop of reconciles. The Ready condition's lastTransitionTime moves only when its status does.
 */
export class StatusWriter {
  private readonly written = new Map<string, string>();
  private readonly conditions = new Map<string, Condition>();
  /** What is said of each resource: the parts written by the reconciler and by the autoscaler merge. */
  private readonly said = new Map<string, { ready: Observed["ready"] | undefined; fields: Record<string, unknown> }>();

  constructor(
    private readonly api: KubeApi,
    private readonly logger: Logger,
  ) {}

  async write(kind: KindRef, cr: KubeObject, change: ObservedChange): Promise<void> {
    const generation = cr.metadata.generation ?? 1;
    const k = key(cr);
    const said = this.said.get(k) ?? { ready: undefined, fields: {} };
    said.ready = change.ready ?? said.ready;
    said.fields = { ...said.fields, ...change.fields };
    this.said.set(k, said);
    // Nothing is written before the resource was judged: a status with fields but no condition would say nothing of it.
    if (said.ready === undefined) return;
    const o = { ready: said.ready, fields: said.fields };
    const before = this.conditions.get(k) ?? (cr.status?.["conditions"] as Condition[] | undefined)?.find((c) => c.type === "Ready");
    const status = o.ready.status ? "True" : "False";
    const condition: Condition = {
      type: "Ready",
      status,
      reason: o.ready.reason,
      message: o.ready.message,
      lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      observedGeneration: generation,
    };
    const body = { observedGeneration: generation, conditions: [condition], ...o.fields };
    const text = JSON.stringify(body);
    if (this.written.get(k) === text) return;
    try {
      await this.api.patchStatus(kind, cr.metadata.namespace ?? "default", cr.metadata.name, body);
      this.written.set(k, text);
      this.conditions.set(k, condition);
    } catch (err) {
      // The next reconcile or scaling round writes it again.
      this.logger.warn("could not write a status", { resource: k, err: String(err) });
    }
  }

  forget(cr: KubeObject): void {
    this.written.delete(key(cr));
    this.conditions.delete(key(cr));
    this.said.delete(key(cr));
  }
}

/** Seconds an event with the same reason and message is not repeated. */
const REPEAT_AFTER_MS = 60_000;

/**
 * Records Kubernetes Events on riff's resources, so `kubectl describe function square` and
 * `kubectl get events` tell what riff did (deployed, scaled, refused), as for built-in kinds.
 */
export class EventRecorder {
  private readonly recent = new Map<string, number>();
  private sequence = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly component: string,
    private readonly logger: Logger,
  ) {}

  async record(cr: KubeObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const k = `${key(cr)}/${reason}/${message}`;
    const now = Date.now();
    if (now - (this.recent.get(k) ?? -Infinity) < REPEAT_AFTER_MS) return;
    this.recent.set(k, now);
    if (this.recent.size > 1000) this.recent.clear();
    const at = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
    const namespace = cr.metadata.namespace ?? "default";
    const name = `${cr.metadata.name}.${now.toString(16)}${(this.sequence++ % 4096).toString(16).padStart(3, "0")}`;
    try {
      await this.api.create({
        apiVersion: "v1",
        kind: EVENTS.kind,
        metadata: { name, namespace },
        involvedObject: { apiVersion: cr.apiVersion, kind: cr.kind, name: cr.metadata.name, namespace, uid: cr.metadata.uid, resourceVersion: cr.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component: this.component },
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      });
    } catch (err) {
      this.logger.debug("could not record an event", { reason, err: String(err) });
    }
  }
}
