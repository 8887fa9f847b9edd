// Rounds of throughput steps, shared by the broker benchmarks: a step returns how many messages
// it handled; a case alternates rounds with its baseline, so load from other processes on a
// shared machine hits both alike.

/** Milliseconds of the current round spent in {@link untimed} work, left out of its rate. */
let excludedMs = 0;

/** Runs set-up work inside a round (refilling a backlog) without counting its time. */
export async function untimed(work) {
  const t0 = performance.now();
  await work();
  excludedMs += performance.now() - t0;
}

/** Runs `step` for one round of `roundMs`; returns msgs/s. */
export async function round(step, roundMs) {
  let total = 0;
  excludedMs = 0;
  const start = performance.now();
  const elapsed = () => performance.now() - start - excludedMs;
  while (elapsed() < roundMs) total += await step();
  return (total * 1000) / elapsed();
}

/** `count` rounds of each of `steps` (name → step), interleaved; rates by name. */
export async function rounds(steps, { count, roundMs }) {
  const rates = Object.fromEntries(Object.keys(steps).map((k) => [k, []]));
  for (let r = 0; r < count; r++)
    for (const [k, step] of Object.entries(steps)) rates[k].push(await round(step, roundMs));
  return rates;
}

/** Min, median and max of some rates. */
export function summary(rates) {
  const v = [...rates].sort((a, b) => a - b);
  return { min: v[0], median: v[Math.floor(v.length / 2)], max: v.at(-1) };
}
