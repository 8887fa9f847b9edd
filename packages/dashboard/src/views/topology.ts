import type { FunctionView } from "@riff/controller";
import { html, q, type SafeHtml } from "../html.js";
import { rate } from "../format.js";

/** A node of the graph at its place: layer (column) and row. */
interface Placed {
  id: string;
  kind: "topic" | "fn";
  name: string;
  layer: number;
  row: number;
}

const COL = 190;
const ROW = 80;
const W = 130;
const H = 36;

/**
 * The topic -> function -> topic graph as server-rendered SVG: topics no function writes stand
 * in the first column, each function one column right of its furthest input, each output one
 * right of its function. Edges carry the function's live msgs/s.
 */
export function topologySvg(views: FunctionView[], rateOf: (fn: string) => number): SafeHtml {
  const layer = new Map<string, number>();
  const writers = new Set(views.flatMap((v) => (v.output === undefined ? [] : [v.output])));
  for (const v of views) for (const t of v.inputs) if (!writers.has(t)) layer.set(`topic:${t}`, 0);
  // Relax until stable: a cycle (allowed with --allow-cycle) is cut after as many rounds as there are functions.
  let changed = true;
  const place = (id: string, l: number) => {
    if (layer.get(id) === l) return;
    layer.set(id, l);
    changed = true;
  };
  for (let round = 0; changed && round <= views.length; round++) {
    changed = false;
    for (const v of views) {
      for (const t of v.inputs) if (!layer.has(`topic:${t}`)) place(`topic:${t}`, 0);
      const l = Math.max(0, ...v.inputs.map((t) => layer.get(`topic:${t}`) ?? 0)) + 1;
      place(`fn:${v.name}`, l);
      if (v.output !== undefined && (layer.get(`topic:${v.output}`) ?? -1) < l + 1) place(`topic:${v.output}`, l + 1);
    }
  }
  const rows = new Map<number, number>();
  const nodes = new Map<string, Placed>();
  for (const [id, l] of [...layer].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))) {
    const row = rows.get(l) ?? 0;
    rows.set(l, row + 1);
    const [kind, ...rest] = id.split(":");
    nodes.set(id, { id, kind: kind === "fn" ? "fn" : "topic", name: rest.join(":"), layer: l, row });
  }
  const edges: { from: Placed; to: Placed; fn: string }[] = [];
  for (const v of views) {
    const fnNode = nodes.get(`fn:${v.name}`);
    if (fnNode === undefined) continue;
    for (const t of v.inputs) {
      const from = nodes.get(`topic:${t}`);
      if (from !== undefined) edges.push({ from, to: fnNode, fn: v.name });
    }
    const out = v.output === undefined ? undefined : nodes.get(`topic:${v.output}`);
    if (out !== undefined) edges.push({ from: fnNode, to: out, fn: v.name });
  }
  const width = Math.max(1, ...[...nodes.values()].map((n) => n.layer + 1)) * COL;
  const height = Math.max(1, ...rows.values()) * ROW;
  const x = (n: Placed) => 10 + n.layer * COL;
  const y = (n: Placed) => 10 + n.row * ROW;
  return html`<svg class="topology" data-testid="topology" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="topic and function graph">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z"/></marker></defs>
${edges.map((e) => {
    const x1 = x(e.from) + W;
    const y1 = y(e.from) + H / 2;
    const x2 = x(e.to);
    const y2 = y(e.to) + H / 2;
    return html`<g class="edge" data-testid="topo-edge-${e.from.name}-${e.to.name}"><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow)"/>
<text x="${(x1 + x2) / 2}" y="${(y1 + y2) / 2 - 4}" text-anchor="middle" data-testid="topo-rate-${e.from.name}-${e.to.name}">${rate(rateOf(e.fn))}/s</text></g>`;
  })}
${[...nodes.values()].map((n) => html`<a href="/ui/${n.kind === "fn" ? "functions" : "topics"}/${q(n.name)}"><g class="node ${n.kind}" data-testid="topo-node-${n.kind}-${n.name}">
<rect x="${x(n)}" y="${y(n)}" width="${W}" height="${H}" rx="${n.kind === "fn" ? 4 : 18}"/><text x="${x(n) + W / 2}" y="${y(n) + H / 2 + 4}" text-anchor="middle">${n.name}</text></g></a>`)}
</svg>`;
}
