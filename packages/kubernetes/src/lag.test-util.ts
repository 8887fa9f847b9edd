import type { Broker } from "@riff/broker";

/** Publishes `count` keyed messages to `topic`: a backlog for the function that reads it. */
export async function makeBacklog(broker: Broker, topic: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await broker.publish(topic, { key: `k${i}`, payload: new TextEncoder().encode(String(i)) });
}

/**
 * Reads and commits `count` messages as a member of `group`, as a function's pods would: the
 * hollow kubelet of the tests runs no containers, so something else must drain the lag.
 */
export async function drainGroup(broker: Broker, topic: string, group: string, count: number): Promise<void> {
  const stop = new AbortController();
  const consumer = broker.consume(topic, group, { signal: stop.signal });
  let handled = 0;
  for await (const batch of consumer) {
    for (const m of batch) await consumer.commit(m.partition, m.offset);
    handled += batch.length;
    if (handled >= count) break;
  }
  stop.abort();
  await consumer.close();
}
