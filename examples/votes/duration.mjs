// "60s", "500ms", "2m" or a number of milliseconds.
export function parseMs(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(text).trim());
  if (!m) throw new Error(`'${text}' is not a duration: write 500ms, 2s or 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? "ms"];
}
