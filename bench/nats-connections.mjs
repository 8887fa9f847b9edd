// `node bench/nats-connections.mjs`: NATS JetStream alone on a private 3-server cluster, R3, 4
// streams, 16 publishers each awaiting its PubAck while one consumer per stream reads (as
// bench/nats-bare.mjs), once through one connection and once through two connections on two
// servers, which is how the two riff nodes of bench:cluster's cluster case reach NATS. The
// second is the fairer ceiling for that case. Rounds of 8 s after 1 s of warm-up, alternated.
// Last line: one JSON object.
import { AckPolicy, connect, nanos } from "nats";
import { startTestNatsCluster } from "../packages/broker-nats/dist/nats-cluster.test-util.js";

const ROUNDS = Number(process.env.ROUNDS ?? 2);
const STREAMS = 4;
const PUBLISHERS = 16;

/** Publish + consume through `servers` (one connection each); returns acknowledged publishes per second. */
async function run(servers) {
  const ncs = await Promise.all(servers.map((u) => connect({ servers: u, noAsyncTraces: true })));
  const jsm = await ncs[0].jetstreamManager();
  const prefix = `c${Math.random().toString(36).slice(2, 7)}`;
  const streams = Array.from({ length: STREAMS }, (_, p) => ({ name: `${prefix}_${p}`, subject: `${prefix}.${p}` }));
  const feeds = [];
  try {
    for (const [i, s] of streams.entries()) {
      await jsm.streams.add({ name: s.name, subjects: [s.subject], num_replicas: 3 });
      const info = await jsm.consumers.add(s.name, { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: nanos(60_000) });
      const feed = await (await ncs[i % ncs.length].jetstream().consumers.get(s.name, info.name)).consume({ max_messages: 512 });
      feeds.push(feed);
      void (async () => {
        for await (const _ of feed);
      })();
    }
    const body = new TextEncoder().encode("10");
    const phase = async (ms) => {
      let n = 0;
      const end = Date.now() + ms;
      await Promise.all(
        Array.from({ length: PUBLISHERS }, async (_, w) => {
          const js = ncs[w % ncs.length].jetstream();
          for (let k = 0; Date.now() < end; k++) {
            await js.publish(streams[(w + k) % STREAMS].subject, body, { msgID: `${w}-${k}-${performance.now()}` });
            n++;
          }
        }),
      );
      return n / (ms / 1000);
    };
    await phase(1000);
    return Math.round(await phase(8000));
  } finally {
    for (const f of feeds) await f.close().catch(() => {});
    for (const s of streams) await jsm.streams.delete(s.name).catch(() => {});
    for (const nc of ncs) await nc.close();
  }
}

const nats = await startTestNatsCluster({ size: 3 });
try {
  const urls = nats.url.split(",");
  const one = [];
  const two = [];
  for (let i = 0; i < ROUNDS; i++) {
    one.push(await run([urls[0]]));
    two.push(await run([urls[0], urls[1]]));
    console.log(`round ${i + 1}: one connection ${one.at(-1)} msg/s, two connections on two servers ${two.at(-1)} msg/s`);
  }
  console.log(JSON.stringify({ one_connection_rps: one, two_connections_rps: two, ratios: two.map((t, i) => Math.round((t / one[i]) * 100) / 100) }));
} finally {
  await nats.stop();
}
