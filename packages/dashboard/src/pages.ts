import { RiffError } from "@riff/core";
import { html, q, type HtmlValue, type SafeHtml } from "./html.js";
import { page } from "./layout.js";
import { intParam, timeParam } from "./query.js";
import { regionsFor, TickData, type WatchSpec } from "./regions.js";
import type { SeriesStore } from "./series.js";
import type { DashboardSources } from "./sources.js";
import { deadLetterActions, deadLetterDetail } from "./views/dead-letters.js";
import { functionPage } from "./views/function-page.js";
import { recordView } from "./views/system.js";
import { messageBrowser } from "./views/topics.js";

/** Messages the browser shows at most per page. */
const MAX_BROWSE = 500;

/** A page whose main region is live: rendered now, then swapped whole by the stream's `snapshot`. */
async function livePage(d: TickData, title: string, spec: WatchSpec, before?: HtmlValue, after?: HtmlValue): Promise<SafeHtml> {
  const regions = await regionsFor(spec, d);
  const stream = `watch=${spec.watch}${spec.topic === undefined ? "" : `&topic=${q(spec.topic)}`}`;
  return page({
    title,
    section: spec.watch === "topic" ? "topics" : spec.watch,
    stream,
    body: html`<h1>${title}</h1>${before}<div id="live" sse-swap="snapshot" data-testid="live">${regions.map(([, m]) => m)}</div>${after}`,
  });
}

function notFound(what: string): RiffError {
  return new RiffError("RIFF_NOT_FOUND", `the dashboard has no page ${what}`, { hint: "start from /ui/" });
}

/** Renders the page at `path` (below `/ui`), or throws a RiffError the caller turns into an error page. */
export async function renderPage(path: string, query: URLSearchParams, sources: DashboardSources, series: SeriesStore): Promise<SafeHtml | { json: unknown }> {
  const parts = path.split("/").filter((p) => p !== "").map(decodePart);
  const d = new TickData(sources, series, await sources.functions.list());
  const [section, a, b, c] = parts;
  if (section === undefined) return livePage(d, "Overview", { watch: "overview" });
  if (section === "functions" && a === undefined) return livePage(d, "Functions", { watch: "functions" });
  if (section === "functions" && a !== undefined && b === undefined) {
    const detail = await sources.functions.get(a);
    if (detail === undefined) throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${a}' does not exist`, { hint: "see the Functions page for the functions there are" });
    const records = sources.records === undefined ? undefined : await sources.records.list({ function: a, limit: 20 });
    return functionPage(detail, records);
  }
  if (section === "series" && a === undefined) {
    const fn = query.get("function");
    if (fn === null || fn === "") throw new RiffError("RIFF_INVALID_ARGUMENT", "query parameter 'function' is required", { details: { field: "function" } });
    if ((await sources.functions.get(fn)) === undefined) throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${fn}' does not exist`, { details: { field: "function" } });
    return { json: series.get(fn) };
  }
  if (section === "invocations" && a !== undefined && b === undefined) {
    const span = await sources.records?.get(a);
    if (span === undefined) throw new RiffError("RIFF_NOT_FOUND", `no invocation record '${a}' is kept`, { hint: "records are kept for a while only; see the function's page for recent ones" });
    const trace = (await sources.records?.trace(span.traceId)) ?? [span];
    return page({ title: `Invocation ${a}`, section: "functions", body: recordView(span, trace.length === 0 ? [span] : trace) });
  }
  if (section === "topics" && a === undefined) return livePage(d, "Topics", { watch: "topics" });
  if (section === "topics" && a !== undefined && b === undefined) {
    const description = await sources.topics.describe(a);
    const partition = intParam(query, "partition", 0, 0, Math.max(0, description.partitions - 1));
    const limit = intParam(query, "limit", 50, 1, MAX_BROWSE);
    const at = timeParam(query, "at");
    const offsets = description.offsets.find((o) => o.partition === partition);
    let from = intParam(query, "from", offsets?.start ?? 0, 0, Number.MAX_SAFE_INTEGER);
    if (at !== undefined && query.get("from") === null) from = (await sources.topics.offsetsForTimestamp(a, at))[partition] ?? from;
    const messages = await sources.topics.read(a, partition, from, limit);
    const browse = { partition, from: query.get("from") === null ? undefined : from, at: query.get("at") ?? undefined, limit };
    return livePage(d, `Topic ${a}`, { watch: "topic", topic: a }, undefined, html`<h2>Messages</h2>${messageBrowser(a, description.partitions, browse, messages, from)}`);
  }
  if (section === "topology" && a === undefined) return livePage(d, "Topology", { watch: "topology" });
  if (section === "dead-letters" && a === undefined) {
    const flash = query.get("flash") ?? undefined;
    return livePage(d, "Dead letters", { watch: "dead-letters" }, deadLetterActions(d.views.map((v) => v.name), flash));
  }
  if (section === "dead-letters" && a !== undefined && b !== undefined && c !== undefined) {
    const partition = wholeNumber(b, "partition");
    const offset = wholeNumber(c, "offset");
    return page({ title: `Dead letter of ${a}`, section: "dead-letters", body: deadLetterDetail(a, await sources.deadLetters.get(a, partition, offset)) });
  }
  if (section === "invokers" && a === undefined) return livePage(d, "Invokers", { watch: "invokers" });
  if (section === "system" && a === undefined) return livePage(d, "System", { watch: "system" });
  throw notFound(`/ui/${parts.join("/")}`);
}

function wholeNumber(text: string, field: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new RiffError("RIFF_INVALID_ARGUMENT", `the ${field} in the path must be a whole number, not '${text.slice(0, 40)}'`, { details: { field } });
  return n;
}

/** A name from the path; a malformed escape (`%E0%A4`) is the caller's mistake, not a crash. */
export function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `'${part.slice(0, 80)}' in the path is not valid percent-encoding`, { details: { field: "path" } });
  }
}
