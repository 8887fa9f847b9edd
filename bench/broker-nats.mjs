// Benchmark of the NATS JetStream broker against bare nats.js JetStream calls on the same server.
// Not a test. Needs a nats-server with JetStream (NATS_URL, default nats://127.0.0.1:4222).
// 100-byte messages; each case runs 3 rounds of 1 s (CASE_MS overrides the round length),
// alternating with its baseline so that load from other processes hits both alike. Prints
// min / median / max of the rounds, the ratios to the baselines, and one JSON object as the last
// line. Everything it makes lives under a fresh prefix and is deleted at the end.
// Run: node bench/broker-nats.mjs
import { randomBytes } from "node:crypto";
import { DeliverPolicy, StorageType, connect } from "nats";
import { createNatsBroker } from "@riff/broker-nats";
import { rounds, summary, untimed } from "./rounds.mjs";

const SERVERS = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ROUND_MS = Number(process.env.CASE_MS ?? 1000);
const ROUNDS = 3;
/** Each case: ROUNDS rounds of ROUND_MS, interleaved with its baseline. */
const plan = { count: ROUNDS, roundMs: ROUND_MS };
const BATCH = 100;
const PAGE = 1000;
const SIZE = 100;
const PREFILL = Number(process.env.PREFILL ?? 100_000);
const payload = Buffer.alloc(SIZE, 97);
const prefix = `bench${randomBytes(4).toString("hex")}`;

const stops = [];
const nc = await connect({ servers: SERVERS });
const jsm = await nc.jetstreamManager();
const js = nc.jetstream();

/** A bare stream like one partition of the broker's: file storage, one subject. */
async function bareStream(name) {
  const subject = `${prefix}.bare.${name}`;
  await jsm.streams.add({ name: `${prefix}_bare_${name}`, subjects: [subject], storage: StorageType.File });
  return subject;
}

const publishBatchOf = (subject) => Promise.all(Array.from({ length: BATCH }, () => js.publish(subject, payload)));

async function barePublishStep() {
  const subject = await bareStream("pub");
  return async () => (await publishBatchOf(subject)).length;
}

/** Fills `count` messages in pipelined pages of 1000. */
async function fill(publishPage, count) {
  for (let i = 0; i < count; i += PAGE) await publishPage();
}

/** Reads a backlog with an ordered consumer, as the broker's feeds do, without groups or commits. */
async function bareConsumeStep() {
  const subject = await bareStream("read");
  const page = () => Promise.all(Array.from({ length: PAGE }, () => js.publish(subject, payload)));
  await fill(page, PREFILL);
  let left = PREFILL;
  let it;
  // Opened at the first step, not here: an ordered consumer left unread while the broker's
  // backlog is filled stalled this bench (nats.js 2.29.3, 100,000 messages).
  const open = async () => {
    const consumer = await js.consumers.get(`${prefix}_bare_read`, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: 1,
    });
    const messages = await consumer.consume({ max_messages: 512 });
    // Stopped before the streams go: an ordered consumer would try to recreate itself.
    stops.push(() => messages.stop());
    return messages[Symbol.asyncIterator]();
  };
  return async () => {
    it ??= await open();
    if (left < PAGE) {
      await untimed(() => fill(page, PREFILL));
      left += PREFILL;
    }
    for (let i = 0; i < PAGE; i++) await it.next();
    left -= PAGE;
    return PAGE;
  };
}

const broker = createNatsBroker({ servers: SERVERS, prefix });
await broker.start();

async function publishBatchStep() {
  await broker.createTopic("batched");
  const messages = Array.from({ length: BATCH }, () => ({ payload }));
  return async () => (await broker.publishBatch("batched", messages)).length;
}

/**
 * One group consuming and committing a backlog, a commit per batch, as riff's runner commits:
 * without waiting for it (commits fold into one KV write per partition every 50 ms, so a
 * step that waited would measure that interval, about 1,000 messages per 50 ms, not the read).
 * A commit that fails fails the bench at the next step.
 */
async function consumeStep() {
  await broker.createTopic("backlog");
  const messages = Array.from({ length: PAGE }, () => ({ payload }));
  const page = () => broker.publishBatch("backlog", messages);
  await fill(page, PREFILL);
  let left = PREFILL;
  const consumer = broker.consume("backlog", "g", { maxBatch: PAGE });
  const it = consumer[Symbol.asyncIterator]();
  let failed;
  return async () => {
    if (failed !== undefined) throw failed;
    // A fast run can read the whole backlog; the consumer would then wait for more forever.
    if (left < PAGE) {
      await untimed(() => fill(page, PREFILL));
      left += PREFILL;
    }
    const { value } = await it.next();
    left -= value.length;
    const last = value[value.length - 1];
    consumer.commit(last.partition, last.offset).catch((err) => (failed ??= err));
    return value.length;
  };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const show = (name, rates) => {
  const s = summary(rates);
  console.log(`${name.padEnd(50)} median ${fmt(s.median).padStart(9)} msg/s  (min ${fmt(s.min)}, max ${fmt(s.max)})`);
  return s;
};
const ratios = (ours, base) => summary(ours.map((r, i) => r / base[i]));
const pct = (s) => `${(s.median * 100).toFixed(0)} % (min ${(s.min * 100).toFixed(0)}, max ${(s.max * 100).toFixed(0)})`;
const progress = (what) => process.stderr.write(`bench:broker-nats: ${what}\n`);

try {
  progress(`publishBatch vs bare js.publish, ${SERVERS}`);
  const pub = await rounds({ base: await barePublishStep(), ours: await publishBatchStep() }, plan);
  progress(`consume + commit vs bare ordered consumer (prefilling ${fmt(PREFILL)} messages each)`);
  const read = await rounds({ base: await bareConsumeStep(), ours: await consumeStep() }, plan);
  const r = {
    barePublishBaseline: show("baseline: nats.js js.publish x100, pipelined", pub.base),
    bareConsumeBaseline: show("baseline: nats.js ordered consumer, backlog", read.base),
    publishBatch: show("publishBatch of 100", pub.ours),
    consumeCommitBacklog: show("consume + commit (batch of <=1000), backlog", read.ours),
  };
  const pubRatio = ratios(pub.ours, pub.base);
  const readRatio = ratios(read.ours, read.base);
  console.log(`publishBatch / bare publish baseline:              ${pct(pubRatio)}`);
  console.log(`consume + commit / bare ordered consumer baseline: ${pct(readRatio)}`);
  const round3 = (o) => JSON.parse(JSON.stringify(o, (_, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v)));
  console.log(JSON.stringify(round3({ ...r, publishRatioToBare: pubRatio, consumeRatioToBare: readRatio })));
} finally {
  for (const stop of stops) stop();
  await broker.stop();
  const ours = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`) || name === `KV_${prefix}_meta`) ours.push(name);
  for (const name of ours) await jsm.streams.delete(name);
  await nc.close();
}
