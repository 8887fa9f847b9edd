import type { FunctionView } from "@riff/controller";
import { html, q, type SafeHtml } from "../html.js";
import { badge, ms, rate } from "../format.js";
import type { SeriesStore } from "../series.js";

/** The cells of one function, as `riff list -o wide` names them, plus the live rates of the series. */
export interface FunctionCells {
  name: string;
  invoker: string;
  inputs: string;
  output: string;
  replicas: string;
  lag: number;
  msgsPerSecond: string;
  p95: string;
  errorPercent: string;
  cold: number;
  status: string;
}

/** Seconds over which MSG/S is averaged, and ERR% and P95 taken. */
const RATE_WINDOW_S = 10;
const ERROR_WINDOW_S = 60;

/** A view's cells: the spec and runner columns as `riff list -o json` has them, the rates from the series. */
export function functionCells(f: FunctionView, series: SeriesStore): FunctionCells {
  const recent = series.window(f.name, RATE_WINDOW_S);
  const minute = series.window(f.name, ERROR_WINDOW_S);
  const hour = series.window(f.name, 3600);
  return {
    name: f.name,
    invoker: f.invoker,
    inputs: f.inputs.join(","),
    output: f.output ?? "-",
    replicas: `${f.ready}/${f.desired}/${f.maxReplicas ?? "-"}`,
    lag: f.lag,
    msgsPerSecond: rate(recent.invocations / RATE_WINDOW_S),
    p95: ms(minute.p95),
    errorPercent: minute.invocations === 0 ? "-" : `${((100 * minute.errors) / minute.invocations).toFixed(1)}%`,
    cold: hour.cold,
    status: f.status,
  };
}

/** The Functions table's body: one `<tbody>`, swapped whole (a bare `<td>` swap never applies). */
export function functionsTable(views: FunctionView[], series: SeriesStore): SafeHtml {
  if (views.length === 0) {
    return html`<p class="empty" data-testid="no-functions">No functions. Create one with <code>riff create node --name square --input numbers --filepath .</code></p>`;
  }
  const rows = views.map((v) => {
    const c = functionCells(v, series);
    return html`<tr data-testid="fn-row-${c.name}">
<td data-col="name"><a href="/ui/functions/${q(c.name)}">${c.name}</a></td><td data-col="invoker">${c.invoker}</td>
<td data-col="io">${c.inputs} → ${c.output}</td><td data-col="replicas">${c.replicas}</td><td data-col="lag">${c.lag}</td>
<td data-col="rate">${c.msgsPerSecond}</td><td data-col="p95">${c.p95}</td><td data-col="errors">${c.errorPercent}</td>
<td data-col="cold">${c.cold}</td><td data-col="status">${badge(c.status)}</td></tr>`;
  });
  return html`<table class="grid" data-testid="functions"><thead><tr><th>NAME</th><th>INVOKER</th><th>IN → OUT</th><th title="ready/desired/max">REPLICAS</th><th>LAG</th><th>MSG/S</th><th>P95</th><th>ERR%</th><th title="cold starts, last hour">COLD</th><th>STATUS</th></tr></thead>
<tbody>${rows}</tbody></table>
${views.filter((v) => v.error !== undefined).map((v) => html`<p class="problem">${v.name} failed to start: <code>${v.error ?? ""}</code></p>`)}`;
}
