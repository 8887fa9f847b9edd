// Counts votes over a sliding window: every SLIDE, the counts of the words of the last WINDOW,
// as JSON. Project riff's vote demo (60 s windows every 2 s), as a stream function.
import { countBy, slidingWindow } from "@riff/sdk";
import { parseMs } from "./duration.mjs";

const sizeMs = parseMs(process.env.VOTES_WINDOW ?? "60s");
const slideMs = parseMs(process.env.VOTES_SLIDE ?? "2s");
// Once no vote has come for this long, windows close on the clock: the last ones are not held
// back until the next vote.
const idleFlushMs = parseMs(process.env.VOTES_IDLE_FLUSH ?? "1s");

export default async function* votes(messages) {
  for await (const w of slidingWindow(messages, { sizeMs, slideMs, idleFlushMs })) {
    const words = w.items.flatMap((m) => String(m.payload).toLowerCase().split(/\s+/).filter(Boolean));
    yield { start: w.start, end: w.end, total: words.length, counts: countBy(words, (word) => word) };
  }
}

// Each input is a whole message, so the window can read its timestamp.
votes.$argumentType = "message";
