// NATS JetStream alone, as a ceiling for the cluster case of `npm run bench:cluster`: what the
// NATS servers of the run can carry at the same concurrency when nothing of riff is in the way.
// `inFlight` publishers each await their PubAck, one message at a time (as 16 wrk connections
// each await their 202), into `partitions` streams of the given replicas, while one pull
// consumer per stream (no acks, in memory, as riff's readers) receives every message.
import { randomBytes } from "node:crypto";
import { AckPolicy, connect, nanos } from "nats";

/**
 * Runs publish + consume for `seconds` after a 1 s warm-up; returns the publish rate with its
 * latencies (microseconds, like wrk's) and the rate consumed meanwhile.
 */
export async function natsPublishConsume({ url, replicas, partitions, inFlight, seconds }) {
  const nc = await connect({ servers: url.split(","), noAsyncTraces: true });
  const jsm = await nc.jetstreamManager();
  const js = nc.jetstream();
  const prefix = `bare${randomBytes(3).toString("hex")}`;
  const streams = Array.from({ length: partitions }, (_, p) => ({ name: `${prefix}_${p}`, subject: `${prefix}.${p}` }));
  const consumed = { count: 0 };
  const feeds = [];
  try {
    for (const s of streams) {
      await jsm.streams.add({ name: s.name, subjects: [s.subject], num_replicas: replicas });
      const info = await jsm.consumers.add(s.name, { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: nanos(60_000) });
      const feed = await (await js.consumers.get(s.name, info.name)).consume({ max_messages: 512 });
      feeds.push(feed);
      void (async () => {
        for await (const _ of feed) consumed.count++;
      })();
    }
    const body = new TextEncoder().encode("10");
    const phase = async (ms) => {
      const latencies = [];
      const end = Date.now() + ms;
      const before = consumed.count;
      await Promise.all(
        Array.from({ length: inFlight }, async (_, worker) => {
          for (let k = 0; Date.now() < end; k++) {
            const started = performance.now();
            await js.publish(streams[(worker + k) % partitions].subject, body, { msgID: `${worker}-${k}-${started}` });
            latencies.push((performance.now() - started) * 1000);
          }
        }),
      );
      latencies.sort((a, b) => a - b);
      return {
        rps: latencies.length / (ms / 1000),
        consumed_rps: (consumed.count - before) / (ms / 1000),
        p50_us: latencies[Math.floor(latencies.length / 2)] ?? 0,
        p99_us: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
        errors: 0,
      };
    };
    await phase(1000);
    return await phase(seconds * 1000);
  } finally {
    for (const feed of feeds) await feed.close().catch(() => {});
    for (const s of streams) await jsm.streams.delete(s.name).catch(() => {});
    await nc.close();
  }
}
