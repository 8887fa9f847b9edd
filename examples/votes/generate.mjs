#!/usr/bin/env node
// Publishes random votes to riff's gateway: node generate.mjs [--count 200] [--rate 50] [--url URL]
// The URL defaults to the running daemon's, read from $RIFF_HOME (or ~/.riff)/daemon.json.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "200" },
    rate: { type: "string", default: "50" },
    url: { type: "string" },
    topic: { type: "string", default: "votes" },
    words: { type: "string", default: "yes,no,maybe" },
  },
});
const home = process.env.RIFF_HOME || join(homedir(), ".riff");
const url = values.url ?? JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")).url;
const words = values.words.split(",");
const count = Number(values.count);
const gapMs = 1000 / Number(values.rate);

const tally = {};
for (let i = 0; i < count; i++) {
  const word = words[Math.floor(Math.random() * words.length)];
  const res = await fetch(`${url}/messages/${values.topic}`, { method: "POST", body: word });
  if (res.status !== 202) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  tally[word] = (tally[word] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, gapMs));
}
console.error(`published ${count} votes: ${JSON.stringify(tally)}`);
