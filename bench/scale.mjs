// `npm run bench:scale`: drain time of a 4,000-message backlog on 4 partitions (10 ms per
// message, order kept per partition) against the ideal 4,000 x 10 ms / 4 = 10 s; the time from
// the backlog appearing to 4 ready replicas; and cold starts (idle to first reply), median of
// 20. Each result is printed as one JSON line; the last line holds them all.
import { writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { admin, startRiff, stats, until } from "./lib.mjs";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 4000);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 20);

/** Publishes n messages over 32 keep-alive connections, as fast as the gateway takes them. */
async function publishAll(url, topic, n) {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const post = (body) =>
    new Promise((resolve, reject) => {
      const req = request(`${url}/messages/${topic}`, { method: "POST", agent, headers: { "content-type": "text/plain" } }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 202 ? resolve() : reject(new Error(`publish: ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  let next = 0;
  const worker = async () => {
    while (next < n) await post(String(next++));
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  agent.destroy();
}

async function drain() {
  const riff = await startRiff();
  try {
    writeFileSync(join(riff.home, "sleepy.js"), "module.exports = async (x) => { await new Promise((r) => setTimeout(r, 10)); return x; };\n");
    await riff.cli("topics", "create", "work", "--partitions", "4");
    await riff.cli("create", "node", "--name", "sleepy", "--input", "work", "--filepath", riff.home, "--idle-timeout", "300ms");
    const fn = () => admin(riff, "functions/sleepy");
    await until(async () => (await fn()).replicas.length === 0 || undefined, { everyMs: 50 });
    const t0 = Date.now();
    let readyAt;
    let published;
    const watch = until(async () => {
      const f = await fn();
      if (readyAt === undefined && f.ready >= 4) readyAt = Date.now();
      return (published !== undefined && f.lag === 0 && f.inFlight === 0) || undefined;
    }, { everyMs: 10, timeoutMs: 300_000 });
    await publishAll(riff.url, "work", MESSAGES);
    published = Date.now();
    await watch;
    const drainMs = Date.now() - t0;
    const idealMs = (MESSAGES * 10) / 4;
    return { case: "drain", messages: MESSAGES, drain_ms: drainMs, ideal_ms: idealMs, ratio: Number((drainMs / idealMs).toFixed(3)), publish_ms: published - t0, time_to_4_ready_ms: readyAt === undefined ? null : readyAt - t0 };
  } finally {
    await riff.stop();
  }
}

async function coldStarts(pool) {
  const riff = await startRiff(["--pool-size", pool ? "1" : "0"]);
  try {
    writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2;\n");
    await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home, "--idle-timeout", "100ms");
    const times = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      await until(async () => (await admin(riff, "functions/square")).replicas.length === 0 || undefined, { everyMs: 20 });
      const t = performance.now();
      const res = await fetch(`${riff.url}/requests/numbers`, { method: "POST", body: "12" });
      await res.text();
      times.push(performance.now() - t);
    }
    const s = stats(times);
    return { case: "cold-start-node", pool, runs: s.n, min_ms: +s.min.toFixed(1), p50_ms: +s.p50.toFixed(1), max_ms: +s.max.toFixed(1) };
  } finally {
    await riff.stop();
  }
}

const results = [];
for (const run of [drain, () => coldStarts(false), () => coldStarts(true)]) {
  const r = await run();
  console.log(JSON.stringify(r));
  results.push(r);
}
const d = results[0];
const [cold, warm] = results.slice(1);
console.log(`node cold start, median of ${cold.runs}: ${cold.p50_ms} ms without the pool, ${warm.p50_ms} ms with it (target with: <= 25 ms)`);
console.log(`drain ${d.drain_ms} ms vs ideal ${d.ideal_ms} ms: ${d.ratio}x (target <= 1.3); 4 ready after ${d.time_to_4_ready_ms} ms (target <= 1000)`);
console.log(JSON.stringify({ drain: results[0], cold: results.slice(1) }));
