// Benchmark of the embedded SQLite broker against the bare storage it is built on.
// Not a test. 100-byte messages; each case runs 3 rounds of 1 s (CASE_MS overrides the round
// length), and a case compared with a baseline alternates rounds with it, so that load from other
// processes on this shared machine hits both alike. Prints min / median / max of the rounds, the
// ratios to the baselines, and one JSON object as the last line. Run: npm run bench:broker
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createSqliteBroker } from "@riff/broker";
import { rounds, summary, untimed } from "./rounds.mjs";

const ROUND_MS = Number(process.env.CASE_MS ?? 1000);
const ROUNDS = 3;
/** Each case: ROUNDS rounds of ROUND_MS, interleaved with its baseline. */
const plan = { count: ROUNDS, roundMs: ROUND_MS };
const BATCH = 100;
const SIZE = 100;
const PREFILL = 2_000_000;
const payload = Buffer.alloc(SIZE, 97);
const cleanups = [];

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "riff-bench-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function percentile(samples, q) {
  const v = [...samples].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? 0;
}

/** A bare table in WAL mode, synchronous=NORMAL, as in BASELINES.md section 4. */
function bareTable() {
  const db = new Database(join(tempDir(), "base.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE log (off INTEGER PRIMARY KEY, ts INTEGER, payload BLOB)");
  cleanups.unshift(() => db.close());
  return { db, insert: db.prepare("INSERT INTO log (off, ts, payload) VALUES (?, ?, ?)") };
}

function sqliteInsertStep() {
  const { db, insert } = bareTable();
  let off = 0;
  const txn = db.transaction((ts) => {
    for (let i = 0; i < BATCH; i++) insert.run(off++, ts, payload);
  });
  return async () => {
    txn(Date.now());
    return BATCH;
  };
}

function sqliteReadStep(page = 1000) {
  const { db, insert } = bareTable();
  db.transaction(() => {
    for (let i = 0; i < PREFILL; i++) insert.run(i, Date.now(), payload);
  })();
  const select = db.prepare("SELECT off, ts, payload FROM log WHERE off >= ? ORDER BY off LIMIT ?");
  let off = 0;
  return async () => {
    const got = select.all(off % PREFILL, page);
    off += page;
    return got.length;
  };
}

function fileStep() {
  const fd = openSync(join(tempDir(), "log"), "a");
  cleanups.unshift(() => closeSync(fd));
  const frame = 4 + SIZE;
  const batch = Buffer.alloc(frame * BATCH);
  for (let i = 0; i < BATCH; i++) {
    batch.writeUInt32BE(SIZE, i * frame);
    payload.copy(batch, i * frame + 4);
  }
  return async () => {
    writeSync(fd, batch);
    fdatasyncSync(fd);
    return BATCH;
  };
}

async function broker(topic) {
  const b = createSqliteBroker({ dir: tempDir(), retentionCheckIntervalMs: 0 });
  await b.start();
  cleanups.unshift(() => b.stop());
  await b.createTopic(topic);
  return b;
}

async function publishBatchStep() {
  const b = await broker("batched");
  const messages = Array.from({ length: BATCH }, () => ({ payload }));
  return async () => (await b.publishBatch("batched", messages)).length;
}

async function concurrentStep(callers = 64, each = 16) {
  const b = await broker("concurrent");
  const message = { payload };
  // Each caller awaits its publish before the next, as 64 HTTP requests in flight would.
  const caller = async () => {
    for (let i = 0; i < each; i++) await b.publish("concurrent", message);
  };
  return async () => {
    await Promise.all(Array.from({ length: callers }, caller));
    return callers * each;
  };
}

/** One group consuming and committing a backlog, so it reads SQLite (the tail cache holds 8192). */
async function consumeStep() {
  const b = await broker("backlog");
  const messages = Array.from({ length: 1000 }, () => ({ payload }));
  const fill = async () => {
    for (let i = 0; i < PREFILL; i += 1000) await b.publishBatch("backlog", messages);
  };
  await fill();
  let left = PREFILL;
  const consumer = b.consume("backlog", "g", { maxBatch: 1000 });
  const it = consumer[Symbol.asyncIterator]();
  return async () => {
    // A fast run can read the whole backlog; the consumer would then wait for more forever.
    if (left < 1000) {
      await untimed(fill);
      left += PREFILL;
    }
    const { value } = await it.next();
    left -= value.length;
    const last = value[value.length - 1];
    await consumer.commit(last.partition, last.offset);
    return value.length;
  };
}

/**
 * A consumer kept caught up by a publisher beside it: it is served from memory. With
 * `publishTimed` false the publish of each batch is left out of the time, which measures what
 * issue 16's "caught-up consumer" target asks of the consumer alone.
 */
async function caughtUpStep({ publishTimed }) {
  const topic = publishTimed ? "live" : "live-only";
  const b = await broker(topic);
  const consumer = b.consume(topic, "g", { maxBatch: 1000 });
  const it = consumer[Symbol.asyncIterator]();
  const messages = Array.from({ length: 1000 }, () => ({ payload }));
  return async () => {
    const publish = () => b.publishBatch(topic, messages);
    let value;
    if (publishTimed) [, { value }] = await Promise.all([publish(), it.next()]);
    else {
      await untimed(publish);
      ({ value } = await it.next());
    }
    const last = value[value.length - 1];
    await consumer.commit(last.partition, last.offset);
    return value.length;
  };
}

async function latency() {
  const b = await broker("latency");
  const message = { payload };
  const samples = [];
  const start = performance.now();
  while (performance.now() - start < ROUND_MS * ROUNDS) {
    const t0 = performance.now();
    await b.publish("latency", message);
    samples.push(performance.now() - t0);
    // Light load: one publish at a time, with the loop idle in between.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    samples: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    max: samples.reduce((a, b) => Math.max(a, b), 0),
  };
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const show = (name, rates) => {
  const s = summary(rates);
  console.log(
    `${name.padEnd(46)} median ${fmt(s.median).padStart(9)} msg/s  (min ${fmt(s.min)}, max ${fmt(s.max)})`,
  );
  return s;
};
const ratios = (ours, base) => summary(ours.map((r, i) => r / base[i]));
const pct = (s) =>
  `${(s.median * 100).toFixed(0)} % (min ${(s.min * 100).toFixed(0)}, max ${(s.max * 100).toFixed(0)})`;

/** Progress on stderr, so a long run shows where it is and stdout stays the figures. */
const progress = (what) => process.stderr.write(`bench:broker: ${what}\n`);

try {
  progress("publishBatch vs SQLite insert");
  const pub = await rounds({ base: sqliteInsertStep(), ours: await publishBatchStep() }, plan);
  progress("file append baseline");
  const file = await rounds({ base: fileStep() }, plan);
  progress("64 concurrent publishers");
  const conc = await rounds({ ours: await concurrentStep() }, plan);
  progress(`consume backlog vs SQLite read (prefilling ${PREFILL.toLocaleString("en-US")} messages)`);
  const read = await rounds({ base: sqliteReadStep(), ours: await consumeStep() }, plan);
  progress("caught-up consumer");
  const live = await rounds({ ours: await caughtUpStep({ publishTimed: true }) }, plan);
  progress("caught-up consumer alone (its publishes untimed)");
  const liveOnly = await rounds({ ours: await caughtUpStep({ publishTimed: false }) }, plan);
  progress("publish latency");
  const lat = await latency();

  const r = {
    sqliteInsertBaseline: show("baseline: better-sqlite3 txn of 100", pub.base),
    sqliteReadBaseline: show("baseline: better-sqlite3 read, page of 1000", read.base),
    fileBaseline: show("baseline: writeSync batch of 100 + fdatasync", file.base),
    publishBatch: show("publishBatch of 100 (process durability)", pub.ours),
    publishConcurrent64: show("publish, 64 concurrent callers", conc.ours),
    consumeCommitBacklog: show("consume + commit, one group, backlog (SQLite)", read.ours),
    consumeCommitCaughtUp: show("publish + consume + commit, caught up (memory)", live.ours),
    consumeCommitCaughtUpAlone: show("consume + commit, caught up, publish untimed", liveOnly.ours),
  };
  console.log(
    `${"publish latency, light load".padEnd(46)} p50 ${lat.p50.toFixed(3)} ms, p99 ${lat.p99.toFixed(3)} ms, max ${lat.max.toFixed(2)} ms (${fmt(lat.samples)} publishes)`,
  );
  const pubRatio = ratios(pub.ours, pub.base);
  const readRatio = ratios(read.ours, read.base);
  console.log(`publishBatch / SQLite insert baseline:        ${pct(pubRatio)}  target >= 60 %`);
  console.log(
    `publishBatch / file + fdatasync baseline:     ${((r.publishBatch.median / r.fileBaseline.median) * 100).toFixed(0)} %`,
  );
  console.log(`consume backlog / SQLite read baseline:       ${pct(readRatio)}`);
  const round3 = (o) =>
    JSON.parse(
      JSON.stringify(o, (_, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v)),
    );
  console.log(
    JSON.stringify(
      round3({
        ...r,
        latencyMs: lat,
        publishRatioToSqlite: pubRatio,
        consumeRatioToSqliteRead: readRatio,
        targets: {
          publishRatioToSqlite: pubRatio.median >= 0.6,
          publishConcurrent64: r.publishConcurrent64.median >= 100_000,
          consumeCommit:
            Math.max(r.consumeCommitBacklog.median, r.consumeCommitCaughtUp.median) >= 500_000,
          caughtUpConsumer: r.consumeCommitCaughtUpAlone.median >= 500_000,
          backlogReadRatio: readRatio.median >= 0.9,
          latencyP99: lat.p99 <= 2,
        },
      }),
    ),
  );
} finally {
  for (const cleanup of cleanups) await cleanup();
}
