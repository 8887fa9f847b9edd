import type { StoredMessage, TopicDescription, TopicInfo } from "@riff/broker";
import { html, q, type SafeHtml } from "../html.js";
import { ms, payloadText, time } from "../format.js";

/** A topic with what the list shows beside it: messages held, groups and their lag. */
export interface TopicRow {
  info: TopicInfo;
  messages: number;
  groups: { group: string; lag: number }[];
}

export function topicsTable(rows: TopicRow[]): SafeHtml {
  return html`<table class="grid" data-testid="topics"><thead><tr><th>NAME</th><th>PARTITIONS</th><th>MESSAGES</th><th>RETENTION</th><th>GROUPS (LAG)</th></tr></thead><tbody>
${rows.map((r) => html`<tr data-testid="topic-row-${r.info.name}"><td><a href="/ui/topics/${q(r.info.name)}">${r.info.name}</a></td><td>${r.info.partitions}</td><td data-col="messages">${r.messages}</td><td>${ms(r.info.retentionMs)}</td>
<td>${r.groups.map((g) => html`<span class="chip">${g.group} (${g.lag})</span> `)}</td></tr>`)}
</tbody></table>`;
}

/** Per group and partition, how far behind it is: in messages, and in seconds (the age of its next message). */
export interface LagCell {
  group: string;
  partition: number;
  committed: number;
  end: number;
  lag: number;
  lagSeconds: number | undefined;
}

export function topicRegion(d: TopicDescription, cells: LagCell[]): SafeHtml {
  return html`<p data-testid="topic-summary">${d.partitions} partitions · ${d.offsets.reduce((a, o) => a + o.end - o.start, 0)} messages held · ${d.sizeBytes} bytes · retention ${ms(d.retentionMs)}</p>
<table class="grid" data-testid="offsets"><thead><tr><th>PARTITION</th><th>START</th><th>END</th></tr></thead><tbody>
${d.offsets.map((o) => html`<tr><td>${o.partition}</td><td>${o.start}</td><td>${o.end}</td></tr>`)}</tbody></table>
<h2>Lag per partition and group</h2>
${cells.length === 0 ? html`<p class="empty">No consumer groups read this topic.</p>` : html`<table class="grid" data-testid="lag"><thead><tr><th>GROUP</th><th>PARTITION</th><th>COMMITTED</th><th>END</th><th>LAG</th><th>LAG (S)</th></tr></thead><tbody>
${cells.map((c) => html`<tr><td>${c.group}</td><td>${c.partition}</td><td>${c.committed}</td><td>${c.end}</td><td>${c.lag}</td><td>${c.lagSeconds === undefined ? "-" : (c.lagSeconds).toFixed(1)}</td></tr>`)}</tbody></table>`}`;
}

/** Where the message browser starts: a partition, and an offset or a time. */
export interface BrowseQuery {
  partition: number;
  from: number | undefined;
  at: string | undefined;
  limit: number;
}

/** The browser's form and its results; every payload, key and header is escaped text. */
export function messageBrowser(topic: string, partitions: number, b: BrowseQuery, messages: StoredMessage[], startedAt: number): SafeHtml {
  const opts = Array.from({ length: partitions }, (_, p) => html`<option value="${p}"${p === b.partition ? html` selected` : ""}>${p}</option>`);
  return html`<form class="browse" method="get" action="/ui/topics/${q(topic)}" data-testid="browse">
<label>Partition <select name="partition">${opts}</select></label>
<label>From offset <input name="from" type="number" min="0" value="${b.from ?? ""}"></label>
<label>or from time <input name="at" type="datetime-local" step="1" value="${b.at ?? ""}"></label>
<label>Count <input name="limit" type="number" min="1" max="500" value="${b.limit}"></label><button type="submit">Show</button></form>
<p>From offset ${startedAt} of partition ${b.partition}: ${messages.length} message${messages.length === 1 ? "" : "s"}.</p>
<table class="grid messages" data-testid="messages"><thead><tr><th>OFFSET</th><th>TIME</th><th>KEY</th><th>HEADERS</th><th>PAYLOAD</th></tr></thead><tbody>
${messages.map((m) => {
    const p = payloadText(m.payload);
    const headers = Object.entries(m.headers).map(([k, v]) => `${k}: ${v.join(", ")}`).join("\n");
    return html`<tr data-testid="msg-row"><td>${m.offset}</td><td>${time(m.timestamp)}</td><td>${m.key ?? ""}</td><td><pre class="headers">${headers}</pre></td>
<td><pre class="payload${p.binary ? " hex" : ""}" data-testid="msg-payload">${p.text}${p.truncated ? "…" : ""}</pre></td></tr>`;
  })}</tbody></table>`;
}
