/** One sample line of the Prometheus text format. */
export interface TextSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The sample lines of a Prometheus text-format body (comments skipped). */
export function parseSamples(text: string): TextSample[] {
  const samples: TextSample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line of the text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ""] = l[2] ?? "";
    samples.push({ name: m[1] ?? "", labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number {
  return matching(text, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** The samples of `name` whose labels include `labels`. */
export function matching(text: string, name: string, labels: Record<string, string> = {}): TextSample[] {
  return parseSamples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** GETs a /metrics URL and returns its body; fails on any status but 200. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res.text();
}

/** Scrapes `url` again (every 100 ms, up to `timeoutMs`) until `done` holds for the body. */
export async function waitForScrape(url: string, done: (text: string) => boolean, timeoutMs = 45_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(url);
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting on ${url}; last scrape:\n${text.split("\n").filter((l) => l.startsWith("riff_")).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
