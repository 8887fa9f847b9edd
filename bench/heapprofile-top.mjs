// Sums a sampled allocation profile (bench/cpu-prof-preload.cjs with RIFF_PROF_KIND=alloc) per
// function and per file, the garbage included:
//   node bench/heapprofile-top.mjs PROFILE.heapprofile [top=30] [messages]
// With `messages` (how many the process handled), bytes are also given per message. Files are
// shortened to the part after node_modules/ or packages/, so that the output carries no
// machine's paths.
import { readFileSync } from "node:fs";
import { frameTally } from "./frame-tally.mjs";

const [file, topArg, messagesArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node bench/heapprofile-top.mjs PROFILE.heapprofile [top=30] [messages]");
  process.exit(2);
}
const top = Number(topArg ?? 30);
const messages = messagesArg === undefined ? undefined : Number(messagesArg);
const { head } = JSON.parse(readFileSync(file, "utf8"));
const tally = frameTally();
const visit = (node) => {
  tally.add(node.callFrame, node.selfSize);
  for (const child of node.children) visit(child);
};
visit(head);
const { fns, files, total } = tally;
const row = (bytes) => `${(bytes / 1048576).toFixed(1).padStart(8)} MiB ${((100 * bytes) / total).toFixed(1).padStart(5)} %${messages === undefined ? "" : `${(bytes / messages).toFixed(0).padStart(7)} B/msg`}`;
console.log(`allocated (sampled): ${(total / 1048576).toFixed(1)} MiB${messages === undefined ? "" : `, ${(total / messages).toFixed(0)} B per message`}`);
console.log("\nby function (self):");
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${row(v)}  ${k}`);
console.log("\nby file:");
for (const [k, v] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${row(v)}  ${k}`);
