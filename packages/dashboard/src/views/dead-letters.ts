import type { StoredMessage } from "@riff/broker";
import type { DeadLetterRow } from "@riff/core";
import { html, q, type SafeHtml } from "../html.js";
import { payloadText, time } from "../format.js";

/** One function's dead letters as the page lists them. */
export interface DeadLetterGroup {
  fn: string;
  topic: string;
  rows: DeadLetterRow[];
}

/** Every function's dead letters: reason, attempts, last error; inspect each, redrive or purge all. */
export function deadLettersRegion(groups: DeadLetterGroup[]): SafeHtml {
  const any = groups.some((g) => g.rows.length > 0);
  if (!any) return html`<p class="empty" data-testid="no-dead-letters">No dead letters.</p>`;
  return html`${groups.filter((g) => g.rows.length > 0).map((g) => html`<h2 id="dl-${g.fn}">${g.fn} <small>${g.topic}</small></h2>
<table class="grid" data-testid="dead-letters-${g.fn}"><thead><tr><th>TIME</th><th>FROM</th><th>KEY</th><th>CODE</th><th>ATTEMPTS</th><th>REASON</th><th></th></tr></thead><tbody>
${g.rows.map((r) => html`<tr data-testid="dead-letter"><td>${time(r.timestamp)}</td><td>${r.source}</td><td>${r.key ?? ""}</td><td><code>${r.code}</code></td><td data-col="attempts">${r.attempts}</td><td>${r.reason}</td>
<td><a href="/ui/dead-letters/${q(g.fn)}/${r.partition}/${r.offset}">inspect</a></td></tr>`)}
</tbody></table>`)}`;
}

/** The actions, outside the live region so typing is never swapped away. */
export function deadLetterActions(fns: string[], flash: string | undefined): SafeHtml {
  return html`${flash === undefined ? "" : html`<p class="flash" data-testid="flash">${flash}</p>`}
${fns.map((fn) => html`<div class="actions" data-testid="dl-actions-${fn}"><strong>${fn}</strong>
<form method="post" action="/ui/dead-letters/${q(fn)}/redrive"><button type="submit" data-testid="redrive-${fn}">Redrive</button></form>
<form method="post" action="/ui/dead-letters/${q(fn)}/purge"><input name="confirm" data-testid="purge-confirm-${fn}" placeholder="type ${fn} to purge" autocomplete="off" required>
<button type="submit" data-testid="purge-${fn}">Purge</button></form></div>`)}`;
}

/** One dead letter, whole: headers (riff's reason, attempts, error) and its payload, escaped. */
export function deadLetterDetail(fn: string, m: StoredMessage): SafeHtml {
  const p = payloadText(m.payload, 64 * 1024);
  return html`<h1>Dead letter of ${fn} <small>${m.partition}@${m.offset}</small></h1><p>${time(m.timestamp)} · key ${m.key ?? "-"}</p>
<table class="grid"><tbody>${Object.entries(m.headers).map(([k, v]) => html`<tr><th>${k}</th><td><pre>${v.join("\n")}</pre></td></tr>`)}</tbody></table>
<h2>Payload${p.binary ? " (hex)" : ""}</h2><pre class="payload" data-testid="dl-payload">${p.text}${p.truncated ? "…" : ""}</pre>
<p><a href="/ui/dead-letters">back to dead letters</a></p>`;
}
