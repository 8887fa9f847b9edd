// `npm run bench:pipeline`: a three-stage pipeline of trivial node functions fed through
// /messages with 16 connections, against a single function in the same run. Throughput is
// messages out of the last topic per second; latency is from the publish to the last output
// (broker timestamps of the first and last topic). Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { admin, readTopic, requireWrk, startRiff, stats, until, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
await requireWrk();

async function measure(stages) {
  const riff = await startRiff();
  try {
    writeFileSync(join(riff.home, "id.js"), "module.exports = (x) => x;\n");
    const topics = Array.from({ length: stages + 1 }, (_, i) => `s${i}`);
    for (let i = 0; i < stages; i++) {
      await riff.cli("create", "node", "--name", `stage${i}`, "--input", topics[i], "--output", topics[i + 1], "--filepath", riff.home, "--artifact", "id.js", "--idle-timeout", "5m");
    }
    const load = await wrk(`${riff.url}/messages/${topics[0]}`, { connections: 16, seconds, unique: true });
    const last = topics.at(-1);
    // Wait for the pipeline to drain: every stage's group has no lag left.
    await until(async () => {
      const fns = (await admin(riff, "functions")).functions;
      return fns.every((f) => f.lag === 0 && f.inFlight === 0) || undefined;
    }, { everyMs: 50 });
    const inputs = await readTopic(riff, topics[0]);
    const outputs = await readTopic(riff, last);
    const sentAt = new Map(inputs.map((m) => [m.payload, m.timestamp]));
    const latencies = outputs.map((m) => m.timestamp - (sentAt.get(m.payload) ?? m.timestamp));
    const first = Math.min(...inputs.map((m) => m.timestamp));
    const lastOut = Math.max(...outputs.map((m) => m.timestamp));
    const outSet = new Set(outputs.map((m) => m.payload));
    return {
      stages,
      // wrk's count leaves out the requests still open when it stops; the topic has them all.
      published: inputs.length,
      lost: inputs.filter((m) => !outSet.has(m.payload)).length,
      duplicates: outputs.length - outSet.size,
      publish_rps: load.rps,
      out: outputs.length,
      out_rps: outputs.length / ((lastOut - first) / 1000),
      latency_ms: stats(latencies),
    };
  } finally {
    await riff.stop();
  }
}

const single = await measure(1);
const pipeline = await measure(3);
for (const r of [single, pipeline]) {
  const l = r.latency_ms;
  console.log(
    `${r.stages} stage(s): ${r.published} published (${r.publish_rps.toFixed(0)}/s), ${r.out} out at ${r.out_rps.toFixed(0)} msg/s; ` +
      `publish -> last output ms: min ${l.min} p50 ${l.p50} p99 ${l.p99} max ${l.max}`,
  );
}
const ratio = pipeline.out_rps / single.out_rps;
console.log(`pipeline / single throughput: ${ratio.toFixed(3)} (target >= 0.5)`);
console.log(JSON.stringify({
  single_out_rps: Math.round(single.out_rps),
  pipeline_out_rps: Math.round(pipeline.out_rps),
  ratio: Number(ratio.toFixed(3)),
  single_p50_ms: single.latency_ms.p50,
  single_p99_ms: single.latency_ms.p99,
  pipeline_p50_ms: pipeline.latency_ms.p50,
  pipeline_p99_ms: pipeline.latency_ms.p99,
  lost: single.lost + pipeline.lost,
  duplicates: single.duplicates + pipeline.duplicates,
}));
