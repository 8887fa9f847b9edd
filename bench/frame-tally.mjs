// Sums a V8 profile's amounts (µs of CPU, bytes allocated) per function and per file, for
// bench/cpuprofile-top.mjs and bench/heapprofile-top.mjs. Files are shortened to the part after
// node_modules/ or packages/, so that the output carries no machine's paths.

/** A file's URL as the summaries show it. */
export function shortUrl(url) {
  if (url === "") return "(native)";
  const m = /(?:node_modules|packages)\/(.*)$/.exec(url);
  return m ? m[1] : url.startsWith("node:") ? url : url.replace(/^.*\//, "");
}

/** Totals per function (`name  file:line`) and per file; `add` counts one call frame's amount. */
export function frameTally() {
  const tally = { fns: new Map(), files: new Map(), total: 0 };
  tally.add = (callFrame, amount) => {
    const where = shortUrl(callFrame.url);
    const key = `${callFrame.functionName || "(anonymous)"}  ${where}:${callFrame.lineNumber + 1}`;
    tally.fns.set(key, (tally.fns.get(key) ?? 0) + amount);
    tally.files.set(where, (tally.files.get(where) ?? 0) + amount);
    tally.total += amount;
  };
  return tally;
}
