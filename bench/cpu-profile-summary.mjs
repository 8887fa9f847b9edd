// `node bench/cpu-profile-summary.mjs FILE.cpuprofile... [--top N]`: self time per function
// and per file (package) from V8 CPU profiles (`node --cpu-prof`), biggest first, as a share
// of the samples. Idle time ("(idle)") is shown apart so the shares are of busy time.
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt === -1 ? 30 : Number(args[topAt + 1]);
const files = args.filter((a, i) => a !== "--top" && i !== topAt + 1);

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const fn = new Map();
  const where = new Map();
  let idle = 0;
  for (const [id, n] of hits) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === "(idle)") {
      idle += n;
      continue;
    }
    const short = url.replace(/^.*\/node_modules\//, "nm/").replace(/^.*\/packages\//, "").replace(/^file:\/\//, "");
    const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + n);
    const pkg = short === "" ? functionName : short.startsWith("nm/") ? short.split("/").slice(0, 2).join("/") : short.startsWith("node:") ? short : short.split("/").slice(0, 3).join("/");
    where.set(pkg, (where.get(pkg) ?? 0) + n);
  }
  const busy = total - idle;
  const us = (profile.endTime - profile.startTime) / total;
  console.log(`\n${file}: ${total} samples of ${us.toFixed(0)} µs, ${((busy / total) * 100).toFixed(0)}% busy`);
  const print = (title, m) => {
    console.log(`  ${title}`);
    for (const [k, n] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${((n / busy) * 100).toFixed(1).padStart(6)}%  ${k}`);
  };
  print("by file (self time, % of busy):", where);
  print("by function:", fn);
}
