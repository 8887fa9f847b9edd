// `npm run bench`: the /requests path with a node `x ** 2` function, against a plain Node HTTP
// server doing the same in the same run. Last line: one JSON object.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { printTable, requireWrk, startRiff, startServer, wrk } from "./lib.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
await requireWrk();

const results = [];
const plain = await startServer(process.execPath, [join(import.meta.dirname, "plain-server.mjs")]);
try {
  const url = `http://127.0.0.1:${plain.port}/`;
  await wrk(url, { connections: 16, seconds: 2 }); // warm-up
  results.push(["plain node http, c=1", await wrk(url, { connections: 1, seconds })]);
  results.push(["plain node http, c=16", await wrk(url, { connections: 16, seconds })]);
} finally {
  plain.stop();
}

const riff = await startRiff();
try {
  writeFileSync(join(riff.home, "square.js"), "module.exports = (x) => x ** 2\n");
  await riff.cli("create", "node", "--name", "square", "--input", "numbers", "--filepath", riff.home);
  const url = `${riff.url}/requests/numbers`;
  await wrk(url, { connections: 16, seconds: 2 }); // warm-up
  results.push(["riff /requests, c=1", await wrk(url, { connections: 1, seconds })]);
  results.push(["riff /requests, c=16", await wrk(url, { connections: 16, seconds })]);
} finally {
  await riff.stop();
}

printTable(results);
const r = Object.fromEntries(results);
const summary = {
  riff_rps_1: Math.round(r["riff /requests, c=1"].rps),
  plain_rps_1: Math.round(r["plain node http, c=1"].rps),
  riff_rps_16: Math.round(r["riff /requests, c=16"].rps),
  plain_rps_16: Math.round(r["plain node http, c=16"].rps),
  ratio_1: Number((r["riff /requests, c=1"].rps / r["plain node http, c=1"].rps).toFixed(3)),
  ratio_16: Number((r["riff /requests, c=16"].rps / r["plain node http, c=16"].rps).toFixed(3)),
  riff_p50_ms_1: r["riff /requests, c=1"].p50_us / 1000,
  plain_p50_ms_1: r["plain node http, c=1"].p50_us / 1000,
  riff_p99_ms_16: r["riff /requests, c=16"].p99_us / 1000,
  plain_p99_ms_16: r["plain node http, c=16"].p99_us / 1000,
  errors: results.reduce((n, [, x]) => n + x.errors, 0),
};
console.log(`ratio riff/plain: c=1 ${summary.ratio_1}, c=16 ${summary.ratio_16} (target at c=16: >= 0.35)`);
console.log(JSON.stringify(summary));
