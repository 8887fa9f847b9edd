import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  DEFAULT_FUNCTION_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  RiffError,
  toRiffError,
  unknownInvoker,
  type FunctionResource,
  type ResolvedFunction,
} from "@riff/core";
import type { Broker, TopicConfig, TopicInfo } from "@riff/broker";
import type { InvokerRegistry } from "./invoker-registry.js";

/** What applying one resource did. */
export interface ApplyResult {
  kind: "Function" | "Topic" | "Invoker";
  name: string;
  /** `restarted`: same code and settings, but a function that had failed to start was started. */
  action: "created" | "updated" | "unchanged" | "restarted";
  revision?: number;
  /** A function's, once a replica said: `stream` functions send no replies. */
  shape?: "request-reply" | "stream";
}

/**
 * Makes topic `name` have what `wanted` names, and leaves alone what it does not: a Topic
 * document or `riff topics create` without a partition count keeps an existing topic's, and
 * likewise retention and durability. Partitions only go up (RIFF_PARTITIONS_DECREASE).
 */
export async function reconcileTopic(
  broker: Broker,
  name: string,
  wanted: TopicConfig,
): Promise<{ topic: TopicInfo; action: ApplyResult["action"] }> {
  const existing = await broker.getTopic(name);
  if (existing === undefined) return { topic: await broker.createTopic(name, wanted), action: "created" };
  let topic = existing;
  // In the order that changes nothing when a part is refused: lowering partitions fails at
  // once, bad settings fail before the partitions are raised.
  const { partitions } = wanted;
  if (partitions !== undefined && partitions < existing.partitions) await broker.setPartitions(name, partitions);
  const named = { retentionMs: wanted.retentionMs, retentionBytes: wanted.retentionBytes, durability: wanted.durability };
  const changed = Object.fromEntries(Object.entries(named).filter(([k, v]) => v !== undefined && v !== existing[k as keyof typeof named]));
  if (Object.keys(changed).length > 0) topic = await broker.configureTopic(name, changed);
  if (partitions !== undefined && partitions > existing.partitions) topic = await broker.setPartitions(name, partitions);
  return { topic, action: JSON.stringify(topic) === JSON.stringify(existing) ? "unchanged" : "updated" };
}

/** A Function document with its defaults applied and its artifact resolved against its file. */
export function resolveFunction(invokers: InvokerRegistry, resource: FunctionResource, file: string): ResolvedFunction {
  const { spec, metadata } = resource;
  const invoker = invokers.get(spec.invoker);
  if (invoker === undefined) throw unknownInvoker(spec.invoker, invokers.names(), `${file}: spec.invoker: `);
  return {
    name: metadata.name,
    invoker: spec.invoker,
    inputs: Array.isArray(spec.input) ? spec.input : [spec.input],
    output: spec.output,
    handler: spec.handler,
    artifact: resolve(dirname(file), spec.artifact),
    maxReplicas: spec.maxReplicas,
    minReplicas: spec.minReplicas ?? 0,
    idleTimeoutMs: spec.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    timeoutMs: spec.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS,
    concurrency: spec.concurrency ?? invoker.defaultConcurrency,
    ordering: spec.ordering ?? "partition",
    allowCycle: spec.allowCycle ?? false,
    replyFrom: spec.replyFrom ?? "self",
    env: spec.env ?? {},
    source: file,
  };
}

/** Whether two resolved functions have the same settings (the code is compared by digest). */
export function sameSpec(a: ResolvedFunction, b: ResolvedFunction): boolean {
  if (a.inputs.join() !== b.inputs.join()) return false;
  const keys = ["invoker", "output", "allowCycle", "replyFrom", "handler", "artifact", "maxReplicas", "minReplicas", "idleTimeoutMs", "timeoutMs", "concurrency", "ordering"] as const;
  return keys.every((k) => a[k] === b[k]) && JSON.stringify(a.env) === JSON.stringify(b.env);
}

/**
 * `err` with riff's private copies of the function's code in its message (the revision folder,
 * a warm-pool replica's folder under `poolDir`) written as the user's own folder, so that a
 * compile error or a traceback points at the file they edit.
 */
export function withUserPaths(err: unknown, copies: { revisionDir: string; poolDir: string }, artifact: string): RiffError {
  const e = toRiffError(err);
  const source = statSync(artifact, { throwIfNoEntry: false })?.isDirectory() === true ? artifact : dirname(artifact);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`${escape(copies.revisionDir)}|${escape(copies.poolDir)}/[^/\\s]+/[^/\\s]+`, "g");
  // A function, not a string: a `$` in the user's path must not be read as a pattern.
  const message = e.message.replace(pattern, () => source);
  if (message === e.message) return e;
  return new RiffError(e.code, message, { hint: e.hint, details: e.details, cause: err });
}
