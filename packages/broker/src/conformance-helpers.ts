import { expect } from "vitest";
import { RiffError } from "@riff/core";
import type { Broker, GroupConsumer, StoredMessage } from "./broker.js";

/** What a conformance factory hands over: a started broker and how to dispose of it. */
export interface BrokerFixture {
  broker: Broker;
  cleanup(): Promise<void>;
  /** The replica count the broker gives a topic that does not ask for one. @default 1 */
  defaultReplicas?: number;
}

/** Makes a started broker on fresh, empty storage. */
export type BrokerFactory = () => Promise<BrokerFixture>;

const text = new TextEncoder();
const untext = new TextDecoder();

/** UTF-8 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return text.encode(s);
}

/** A payload as text. */
export function str(payload: Uint8Array): string {
  return untext.decode(payload);
}

/** Iterates `consumer` until it has delivered at least `n` messages; returns them in order. */
export async function take(
  it: AsyncIterator<StoredMessage[]>,
  n: number,
): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done === true) throw new Error(`iteration ended after ${out.length} of ${n} messages`);
    out.push(...r.value);
  }
  return out;
}

/** The iterator of a consumer. */
export function iterate(consumer: GroupConsumer): AsyncIterator<StoredMessage[]> {
  return consumer[Symbol.asyncIterator]();
}

/** Expects `promise` to reject with a RiffError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<RiffError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RiffError);
  expect((err as RiffError).code).toBe(code);
  return err as RiffError;
}

/** Runs `fn`, whether it throws or rejects, and expects a RiffError of `code`. */
export function expectCodeSync(fn: () => unknown, code: string): Promise<RiffError> {
  try {
    return expectCode(Promise.resolve(fn()), code);
  } catch (err) {
    return expectCode(Promise.reject(err), code);
  }
}

/** Resolves on a later turn than the current millisecond, so new messages get a later timestamp. */
export async function nextMillisecond(after: number): Promise<void> {
  while (Date.now() <= after) await new Promise((resolve) => setImmediate(resolve));
}

/** Offsets of `messages` grouped by partition. */
export function byPartition(messages: StoredMessage[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const m of messages) {
    const list = out.get(m.partition) ?? [];
    list.push(m.offset);
    out.set(m.partition, list);
  }
  return out;
}

/** Integers from `from` to `to - 1`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
