import type { FunctionView } from "@riff/controller";
import type { NodeRow } from "@riff/core";
import { html, q, type SafeHtml } from "../html.js";
import { badge, ms, rate, sparkline, time } from "../format.js";
import type { SeriesStore } from "../series.js";

/** What the overview shows, gathered once a tick. */
export interface OverviewData {
  status: Record<string, unknown>;
  views: FunctionView[];
  deadLetters: Map<string, number>;
  warnings: string[];
  nodes: NodeRow[] | undefined;
}

/** Seconds of history in the sparklines. */
const SPARK_S = 300;

/** Per second over all functions, for the last `seconds`: invocations and errors. */
function totals(series: SeriesStore, names: string[], seconds: number): { calls: number[]; errors: number[] } {
  const calls = new Array<number>(seconds).fill(0);
  const errors = new Array<number>(seconds).fill(0);
  for (const n of names) {
    const s = series.get(n);
    const off = seconds - s.t.length;
    for (let i = Math.max(0, -off); i < s.t.length; i++) {
      const e = (s.error[i] ?? 0) + (s.timeout[i] ?? 0);
      calls[i + off] = (calls[i + off] ?? 0) + (s.success[i] ?? 0) + e;
      errors[i + off] = (errors[i + off] ?? 0) + e;
    }
  }
  return { calls, errors };
}

function tile(id: string, label: string, value: string | number, extra?: SafeHtml): SafeHtml {
  return html`<div class="tile" data-testid="tile-${id}"><div class="label">${label}</div><div class="value">${value}</div>${extra ?? ""}</div>`;
}

/** The overview's live region: health bar, tiles, sparklines, needs-attention, nodes. */
export function overviewRegion(d: OverviewData, series: SeriesStore): SafeHtml {
  const names = d.views.map((v) => v.name);
  const { calls, errors } = totals(series, names, SPARK_S);
  const last = (arr: number[], n: number) => arr.slice(-n).reduce((a, b) => a + b, 0);
  const p95s = names.map((n) => series.window(n, 60).p95).filter((p): p is number => p !== null);
  const dead = [...d.deadLetters.values()].reduce((a, b) => a + b, 0);
  const cold = names.reduce((sum, n) => sum + series.window(n, 3600).cold, 0);
  const attention: SafeHtml[] = [
    ...d.warnings.map((w) => html`<li class="bad">${w}</li>`),
    ...d.views.filter((v) => ["failed", "crash-looping", "looping"].includes(v.status)).map((v) => html`<li class="bad"><a href="/ui/functions/${q(v.name)}">${v.name}</a> is ${v.status}${v.error === undefined ? "" : html`: ${v.error}`}</li>`),
    ...[...d.deadLetters].filter(([, n]) => n > 0).map(([fn, n]) => html`<li class="warn"><a href="/ui/dead-letters#dl-${fn}">${fn}</a> has ${n} dead letter${n === 1 ? "" : "s"}</li>`),
    ...d.views.filter((v) => v.lag > 0 && v.ready === 0 && v.status !== "idle").map((v) => html`<li class="warn"><a href="/ui/functions/${q(v.name)}">${v.name}</a> has lag ${v.lag} and no ready replica</li>`),
  ];
  const s = d.status;
  const str = (k: string) => (typeof s[k] === "string" ? s[k] : typeof s[k] === "number" ? String(s[k]) : "-");
  return html`<div class="health" data-testid="health">${badge(str("state"))} riff ${str("version")} · broker ${str("broker") === "-" ? "embedded" : str("broker")} · ${str("url")} · up ${ms(Number(s["uptimeMs"]) || 0)}</div>
<div class="tiles">
${tile("functions", "Functions", d.views.length)}
${tile("replicas", "Replicas", d.views.reduce((a, v) => a + v.ready, 0))}
${tile("rate", "Msgs/s", rate(last(calls, 10) / 10), sparkline(calls.slice(-120), "spark-rate"))}
${tile("p95", "p95", ms(p95s.length === 0 ? null : Math.max(...p95s)))}
${tile("errors", "Errors/min", last(errors, 60), sparkline(errors.slice(-120), "spark-errors"))}
${tile("lag", "Lag", d.views.reduce((a, v) => a + v.lag, 0))}
${tile("dead-letters", "Dead letters", dead)}
${tile("cold", "Cold starts/h", cold)}
</div>
<h2>Needs attention</h2>
${attention.length === 0 ? html`<p class="empty" data-testid="attention-none">Nothing: every function is healthy.</p>` : html`<ul class="attention" data-testid="attention">${attention}</ul>`}
${d.nodes === undefined ? "" : nodesTable(d.nodes)}`;
}

function nodesTable(nodes: NodeRow[]): SafeHtml {
  return html`<h2>Cluster nodes</h2><table class="grid" data-testid="nodes"><thead><tr><th>NODE</th><th>HEALTH</th><th>LEADER</th><th>REPLICAS</th><th>PARTITIONS</th><th>VERSION</th><th>STARTED</th></tr></thead><tbody>
${nodes.map((n) => html`<tr><td>${n.name}</td><td>${badge(n.health)}</td><td>${n.leader ? "yes" : ""}</td><td>${n.replicas}</td><td>${n.partitions.join(", ")}</td><td>${n.version}</td><td>${time(n.startedAt)}</td></tr>`)}
</tbody></table>`;
}
