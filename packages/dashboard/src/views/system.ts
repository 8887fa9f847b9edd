import type { InvokerSummary } from "@riff/controller";
import type { Span } from "@riff/core";
import { html, type SafeHtml } from "../html.js";
import { badge, ms, time } from "../format.js";

export function invokersTable(invokers: InvokerSummary[]): SafeHtml {
  return html`<table class="grid" data-testid="invokers"><thead><tr><th>NAME</th><th>KIND</th><th>MATCHES</th><th>DESCRIPTION</th></tr></thead><tbody>
${invokers.map((i) => html`<tr><td>${i.name}</td><td>${i.builtin ? "built-in" : `user (${i.protocol ?? "-"})`}</td><td>${i.matchers.join(", ")}</td><td>${i.description}</td></tr>`)}</tbody></table>`;
}

/** `riff system status` as a table; durations (`...Ms`) read as such, nested values as JSON text (escaped like everything else). */
export function systemRegion(status: Record<string, unknown>, warnings: string[]): SafeHtml {
  const cell = (k: string, v: unknown) => (typeof v === "object" && v !== null ? html`<pre>${JSON.stringify(v, null, 2)}</pre>` : k.endsWith("Ms") && typeof v === "number" ? ms(v) : String(v));
  return html`${warnings.length === 0 ? "" : html`<ul class="attention">${warnings.map((w) => html`<li class="bad">${w}</li>`)}</ul>`}
<table class="grid" data-testid="system"><tbody>${Object.entries(status).map(([k, v]) => html`<tr><th>${k.endsWith("Ms") ? k.slice(0, -2) : k}</th><td>${cell(k, v)}</td></tr>`)}</tbody></table>`;
}

/** One record in full, and its trace as a waterfall of bars (SVG, so no inline style is needed). */
export function recordView(span: Span, trace: Span[]): SafeHtml {
  const rows: [string, unknown][] = Object.entries(span).filter(([k]) => k !== "payload");
  const start = Math.min(...trace.map((s) => s.startedAt));
  const end = Math.max(...trace.map((s) => s.startedAt + s.durationMs));
  const total = Math.max(1, end - start);
  const W = 600;
  const label = (s: Span) => (s.kind === "invocation" ? `${s.function} (${s.topic}/${s.partition}@${s.offset}, attempt ${s.attempt})` : `${s.path} ${s.topic} → ${s.code}`);
  const payload = span.kind === "invocation" && span.payload !== undefined ? Buffer.from(span.payload.base64, "base64").toString("utf8") : undefined;
  return html`<h1>${span.kind === "invocation" ? span.function : "request"} <small>${span.id}</small></h1>
<table class="grid" data-testid="record"><tbody>${rows.map(([k, v]) => html`<tr><th>${k}</th><td>${fieldText(k, v)}</td></tr>`)}</tbody></table>
${payload === undefined ? "" : html`<h2>Payload</h2><pre class="payload">${payload}</pre>`}
<h2>Trace <small>${span.traceId}</small></h2>
<svg class="waterfall" data-testid="waterfall" viewBox="0 0 ${W + 320} ${trace.length * 26 + 10}" width="${W + 320}" height="${trace.length * 26 + 10}">
${trace.map((s, i) => {
    const x = ((s.startedAt - start) / total) * W;
    const w = Math.max(2, (s.durationMs / total) * W);
    const status = s.kind === "invocation" ? s.status : s.code < 400 ? "success" : "error";
    return html`<g class="span ${status}" data-testid="span"><rect x="${x}" y="${5 + i * 26}" width="${w}" height="18"/><text x="${W + 10}" y="${18 + i * 26}">${label(s)} · ${ms(s.durationMs)}${s.kind === "invocation" && s.cold ? " · cold" : ""}</text></g>`;
  })}</svg>
<p>${time(span.startedAt)} · ${badge(span.kind === "invocation" ? span.status : String(span.code))}</p>`;
}

/** A record's field for people: times as ISO dates, durations in ms with the dashboard's precision. */
function fieldText(key: string, value: unknown): string {
  if (typeof value === "number" && key === "startedAt") return new Date(value).toISOString();
  if (typeof value === "number" && key.endsWith("Ms")) return ms(value);
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}
