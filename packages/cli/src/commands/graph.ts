import { deadLetterTopicOf, isRiffTopic } from "@riff/core";
import { DaemonClient } from "../client.js";
import { printData } from "../output.js";

interface Graph {
  topics: string[];
  functions: { name: string; inputs: string[]; output?: string; deadLetter?: string; status: string }[];
}

const id = (kind: "t" | "f", name: string) => `${kind}_${name.replace(/-/g, "_")}`;

/** Graphviz: topics are ellipses, functions boxes. */
export function toDot(g: Graph): string {
  const lines = ["digraph riff {", "  rankdir=LR;"];
  for (const t of g.topics) lines.push(`  ${id("t", t)} [label="${t}", shape=ellipse];`);
  for (const f of g.functions) {
    lines.push(`  ${id("f", f.name)} [label="${f.name}", shape=box${f.status === "looping" || f.status === "failed" ? ", color=red" : ""}];`);
    for (const i of f.inputs) lines.push(`  ${id("t", i)} -> ${id("f", f.name)};`);
    if (f.output !== undefined) lines.push(`  ${id("f", f.name)} -> ${id("t", f.output)};`);
  }
  return `${[...lines, "}"].join("\n")}\n`;
}

/** Mermaid flowchart: topics are stadiums, functions boxes. */
export function toMermaid(g: Graph): string {
  const lines = ["flowchart LR"];
  for (const t of g.topics) lines.push(`  ${id("t", t)}([${t}])`);
  for (const f of g.functions) {
    lines.push(`  ${id("f", f.name)}[${f.name}]`);
    for (const i of f.inputs) lines.push(`  ${id("t", i)} --> ${id("f", f.name)}`);
    if (f.output !== undefined) lines.push(`  ${id("f", f.name)} --> ${id("t", f.output)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** For the terminal: each chain from a topic nobody writes, then topics no function touches. */
export function toText(g: Graph): string {
  if (g.functions.length === 0) return `topics: ${g.topics.join(", ") || "none"}\nno functions\n`;
  const readers = new Map<string, Graph["functions"]>();
  for (const f of g.functions) for (const i of f.inputs) readers.set(i, [...(readers.get(i) ?? []), f]);
  const written = new Set(g.functions.flatMap((f) => (f.output === undefined ? [] : [f.output])));
  const starts = [...readers.keys()].filter((t) => !written.has(t));
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (topic: string, prefix: string) => {
    for (const f of readers.get(topic) ?? []) {
      const mark = f.status === "looping" ? " (looping)" : f.status === "failed" ? " (failed)" : "";
      const step = `${prefix}${topic} ─▶ [${f.name}]${mark}`;
      if (f.output === undefined || seen.has(`${f.name}`)) {
        out.push(f.output === undefined ? step : `${step} ─▶ ${f.output} ↺`);
        continue;
      }
      seen.add(f.name);
      const before = out.length;
      walk(f.output, `${step} ─▶ `);
      if (out.length === before) out.push(`${step} ─▶ ${f.output}`);
    }
  };
  for (const t of starts.length > 0 ? starts : [...readers.keys()].slice(0, 1)) walk(t, "");
  for (const f of g.functions) if (!seen.has(f.name) && !out.some((l) => l.includes(`[${f.name}]`))) walk(f.inputs[0] ?? "", "");
  // riff's own topics (records, dead letters) are not the user's to wire: `riff topics list --all` shows them.
  // A function's dead-letter topic is written by riff for it: used, though no function reads it.
  const deadLetters = new Set(g.functions.map((f) => deadLetterTopicOf(f)));
  const idle = g.topics.filter((t) => !readers.has(t) && !written.has(t) && !deadLetters.has(t) && !isRiffTopic(t));
  if (idle.length > 0) out.push(`unused topics: ${idle.join(", ")}`);
  return `${out.join("\n")}\n`;
}

/** `riff graph [-o dot|mermaid]`. */
export async function graph(home: string, output: string | undefined): Promise<void> {
  const g = await new DaemonClient(home).call<Graph>("GET", "graph");
  if (await printData(output, g)) return;
  if (output === "dot") process.stdout.write(toDot(g));
  else if (output === "mermaid") process.stdout.write(toMermaid(g));
  else process.stdout.write(toText(g));
}
