import type { FunctionDetail } from "@riff/controller";
import type { InvocationRecord } from "@riff/core";
import { html, q, type SafeHtml } from "../html.js";
import { badge, ms, replicaLabel, time } from "../format.js";
import { page } from "../layout.js";

/** Status, replicas (state, partitions, handled, in flight) and how the last one ended. */
export function functionRegion(f: FunctionDetail): SafeHtml {
  const replicas = f.replicas.map(
    (r) => html`<tr data-testid="replica-${replicaLabel(r.id)}"><td>${replicaLabel(r.id)}</td><td>${r.pid ?? "-"}</td><td>${badge(r.state)}</td><td>${ms(Date.now() - r.startedAt)}</td><td>${r.handled}</td><td>${r.inFlight}</td><td>${r.partitions.join(", ")}</td></tr>`,
  );
  return html`<p class="status" data-testid="fn-status">${badge(f.status)} revision ${f.revision} · replicas ${f.ready} ready / ${f.desired} desired / ${f.maxReplicas ?? "partitions"} max · in flight ${f.inFlight} · lag ${f.lag}</p>
${f.error === undefined ? "" : html`<p class="problem">failed to start: <code>${f.error}</code></p>`}
<table class="grid" data-testid="replicas"><thead><tr><th>REPLICA</th><th>PID</th><th>STATE</th><th>UPTIME</th><th>HANDLED</th><th>IN FLIGHT</th><th>PARTITIONS</th></tr></thead>
<tbody>${replicas.length === 0 ? html`<tr><td colspan="7" class="empty">no replicas: it scales from zero on the next message</td></tr>` : replicas}</tbody></table>
<p class="last-exit">Last exit: ${f.lastExit ?? "none"}</p>
<table class="grid" data-testid="partition-lag"><thead><tr><th>TOPIC</th><th>PARTITION</th><th>COMMITTED</th><th>END</th><th>LAG</th></tr></thead>
<tbody>${f.partitionLag.map((p) => html`<tr><td>${p.topic ?? "-"}</td><td>${p.partition}</td><td>${p.committed}</td><td>${p.end}</td><td>${p.lag}</td></tr>`)}</tbody></table>`;
}

/** The autoscaler's decisions, newest first, each with its reason (the *why*). */
export function decisionsRegion(f: FunctionDetail): SafeHtml {
  if (f.decisions.length === 0) return html`<p class="empty">No scaling decisions yet.</p>`;
  return html`<table class="grid" data-testid="decisions"><thead><tr><th>TIME</th><th>FROM → TO</th><th>REASON</th><th>WHY</th></tr></thead><tbody>
${[...f.decisions].reverse().map((d) => html`<tr><td>${time(d.at)}</td><td>${d.from} → ${d.to}</td><td><span class="badge idle">${d.code}</span></td><td>${d.reason}</td></tr>`)}
</tbody></table>`;
}

/** The latest invocation records; each opens its record and trace. */
export function invocationsRegion(records: InvocationRecord[] | undefined): SafeHtml {
  if (records === undefined) return html`<p class="empty">This daemon keeps no invocation records.</p>`;
  if (records.length === 0) return html`<p class="empty" data-testid="no-invocations">No invocations yet.</p>`;
  return html`<table class="grid" data-testid="invocations"><thead><tr><th>TIME</th><th>OFFSET</th><th>KEY</th><th>STATUS</th><th>ATTEMPT</th><th>DURATION</th><th>QUEUED</th><th>REPLICA</th><th></th></tr></thead><tbody>
${records.map((r) => html`<tr data-testid="invocation"><td><a href="/ui/invocations/${q(r.id)}">${time(r.startedAt)}</a></td><td>${r.topic}/${r.partition}@${r.offset}</td><td>${r.key ?? ""}</td><td>${badge(r.status)}</td><td>${r.attempt}</td><td>${ms(r.durationMs)}</td><td>${ms(r.queueWaitMs)}</td><td>${replicaLabel(r.replica)}</td>
<td>${r.cold ? html`<span class="badge cold" data-testid="cold-badge">cold${r.initMs === undefined ? "" : html` · init ${ms(r.initMs)}`}</span>` : ""}${r.error === undefined ? "" : html` <code>${r.error.code}</code>`}</td></tr>`)}
</tbody></table>`;
}

/** The whole function page: live plots, scaling, replicas, logs, invocations and the invoke box. */
export function functionPage(f: FunctionDetail, records: InvocationRecord[] | undefined): SafeHtml {
  const name = f.name;
  const input = f.inputs[0] ?? "";
  return page({
    title: name,
    section: "functions",
    plots: true,
    stream: `watch=function&function=${q(name)}&logs=${q(name)}`,
    body: html`<h1>${name} <small>${f.invoker} · ${f.inputs.join(",")} → ${f.output ?? "-"}</small></h1>
<section><div id="fn-live" sse-swap="function">${functionRegion(f)}</div></section>
<section><h2>Rate, latency, replicas</h2><div id="plots" class="plots" data-function="${name}" data-testid="plots"></div>
<div id="metrics-sink" sse-swap="metrics" hx-swap="none" hidden></div></section>
<section><h2>Scaling decisions</h2><div id="fn-scaling" sse-swap="scaling">${decisionsRegion(f)}</div></section>
<section><h2>Logs</h2><div class="log-controls"><label>Replica <select id="log-replica" data-testid="log-replica"><option value="">all</option></select></label>
<label><input type="checkbox" id="log-pause" data-testid="log-pause"> Pause</label></div>
<pre id="logs" class="logs" data-testid="logs"></pre><div id="log-sink" sse-swap="log" hx-swap="none" hidden></div></section>
<section><h2>Invocations</h2><div id="fn-invocations" sse-swap="invocations">${invocationsRegion(records)}</div></section>
<section><h2>Invoke</h2><form id="invoke" class="invoke" data-testid="invoke" data-topic="${input}">
<textarea name="body" data-testid="invoke-body" rows="3" placeholder="request body"></textarea>
<label>Content-Type <select name="type"><option>text/plain</option><option>application/json</option><option>application/octet-stream</option></select></label>
<button type="submit" data-testid="invoke-send">POST /requests/${input}</button></form>
<dl class="invoke-result" data-testid="invoke-result"><dt>Status</dt><dd id="invoke-status" data-testid="invoke-status"></dd><dt>Latency</dt><dd id="invoke-latency" data-testid="invoke-latency"></dd>
<dt>Error code</dt><dd id="invoke-code" data-testid="invoke-code"></dd><dt>Reply</dt><dd><pre id="invoke-reply" data-testid="invoke-reply"></pre></dd></dl></section>`,
  });
}
