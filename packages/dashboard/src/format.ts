import { html, type SafeHtml } from "./html.js";

/** `square-1-2` -> `r2`, `n1/square-1-2` -> `n1/r2`: the short replica label the logs and tables show. */
export function replicaLabel(id: string): string {
  const slash = id.lastIndexOf("/");
  const node = slash === -1 ? "" : `${id.slice(0, slash)}/`;
  const seq = /-(\d+)$/.exec(id)?.[1];
  return seq === undefined ? id : `${node}r${seq}`;
}

/** A duration in ms, short: `0.42ms`, `8.5ms`, `850ms`, `3.2s`, `4m`, `2h` (a function often takes under 1 ms). */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  if (value < 1) return `${value.toFixed(2)}ms`;
  if (value < 10) return `${value.toFixed(1)}ms`;
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)}s`;
  if (value < 3600_000) return `${Math.round(value / 60_000)}m`;
  return `${(value / 3600_000).toFixed(1)}h`;
}

/** A rate, with one decimal below 10. */
export function rate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}

/** An ISO time of day for tables; the full timestamp in the title. */
export function time(at: number | string): SafeHtml {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return html`-`;
  return html`<time datetime="${d.toISOString()}" title="${d.toISOString()}">${d.toISOString().slice(11, 19)}</time>`;
}

/** A status word with the class that colours it (one vocabulary across views). */
export function badge(status: string): SafeHtml {
  const tone = /fail|crash|loop|error|timeout|gone|disconnected/.test(status) ? "bad" : /running|ok|ready|success/.test(status) ? "good" : "idle";
  return html`<span class="badge ${tone}">${status}</span>`;
}

/** An inline SVG sparkline of `values` (no script needed, so the overview loads no plot library). */
export function sparkline(values: readonly number[], testid: string): SafeHtml {
  const w = 120;
  const h = 28;
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / max) * (h - 2) - 1).toFixed(1)}`).join(" ");
  return html`<svg class="spark" data-testid="${testid}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" aria-hidden="true"><polyline points="${points}" fill="none" stroke="currentColor" stroke-width="1.5"/></svg>`;
}

/** Decodes a payload for display: UTF-8 text when it is that, hex otherwise (escaped by `html` later). */
export function payloadText(payload: Uint8Array, max = 2048): { text: string; binary: boolean; truncated: boolean } {
  const part = payload.subarray(0, max);
  const truncated = payload.length > max;
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(part), binary: false, truncated };
  } catch {
    return { text: Buffer.from(part).toString("hex").replace(/(..)/g, "$1 ").trim(), binary: true, truncated };
  }
}
