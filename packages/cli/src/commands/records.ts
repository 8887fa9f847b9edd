import { assertValidName, type InvocationRecord, type Span } from "@riff/core";
import { DaemonClient } from "../client.js";
import { badArgument, flagWholeNumber, info, printTable, printData } from "../output.js";

/** Columns of the waterfall's bars. */
const BAR_WIDTH = 40;

/** `riff invocations [NAME]`: the latest records, newest first. */
export async function list(home: string, name: string | undefined, o: { status?: string; limit?: string; output?: string }): Promise<void> {
  if (name !== undefined) assertValidName(name, "function name");
  const limit = flagWholeNumber(o.limit, "--limit", 1, 1000) ?? 20;
  const query = new URLSearchParams({ limit: String(limit) });
  if (name !== undefined) query.set("function", name);
  if (o.status !== undefined) query.set("status", o.status);
  const { invocations } = await new DaemonClient(home).call<{ invocations: InvocationRecord[] }>("GET", `invocations?${query.toString()}`);
  if (await printData(o.output, invocations)) return;
  if (invocations.length === 0) {
    info(`no invocations${name === undefined ? "" : ` of function '${name}'`}${o.status === undefined ? "" : ` with status ${o.status}`} are kept`);
    return;
  }
  const wide = o.output === "wide";
  const header = ["ID", ...(name === undefined ? ["FUNCTION"] : []), "STARTED", "STATUS", "ATTEMPT", "START", "QUEUED", "DURATION", ...(wide ? ["TOPIC", "REPLICA", "TRACE"] : []), "ERROR"];
  printTable(
    header,
    invocations.map((r) => [
      r.id,
      ...(name === undefined ? [r.function] : []),
      new Date(r.startedAt).toISOString(),
      r.status,
      String(r.attempt),
      r.cold ? `cold ${ms(r.initMs ?? 0)}` : "warm",
      ms(r.queueWaitMs),
      ms(r.durationMs),
      ...(wide ? [`${r.topic}/${r.partition}@${r.offset}`, r.replica, r.traceId] : []),
      r.error === undefined ? "" : oneLine(`${r.error.code}: ${r.error.message}`),
    ]),
  );
}

/** `riff invocation ID`: one record whole; `--rerun` publishes a failed run's input again. */
export async function show(home: string, id: string, o: { rerun?: boolean; output?: string }): Promise<void> {
  checkId(id, [16], "an invocation id (16 hex digits), as `riff invocations NAME` lists it");
  const client = new DaemonClient(home);
  if (o.rerun === true) {
    const at = await client.call<{ invocation: string; topic: string; partition: number; offset: number }>("POST", `invocations/${id}/rerun`);
    if (await printData(o.output, at)) return;
    process.stdout.write(`published the input of ${id} again to ${at.topic}/${at.partition}@${at.offset}\n`);
    return;
  }
  const { invocation: r } = await client.call<{ invocation: InvocationRecord }>("GET", `invocations/${id}`);
  if (await printData(o.output, r)) return;
  const rows: [string, string][] = [
    ["function", `${r.function} (revision ${r.revision})`],
    ["status", r.status],
    ["message", `${r.topic}/${r.partition}@${r.offset}${r.key === undefined ? "" : ` key=${r.key}`}`],
    ["trace", `${r.traceId} (riff trace ${r.traceId})`],
    ["started", new Date(r.startedAt).toISOString()],
    ["attempt", String(r.attempt)],
    ["start", r.cold ? `cold: its replica took ${ms(r.initMs ?? 0)} to start` : "warm"],
    ["queued", ms(r.queueWaitMs)],
    ["duration", ms(r.durationMs)],
    ["replica", `${r.replica}${r.node === undefined ? "" : ` on node ${r.node}`}`],
  ];
  if (r.error !== undefined) rows.push(["error", `${r.error.code}: ${r.error.message}`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  if (r.payload !== undefined) {
    const bytes = Buffer.from(r.payload.base64, "base64");
    const text = r.payload.contentType.startsWith("text/") || r.payload.contentType.includes("json") ? bytes.toString("utf8") : `(base64) ${r.payload.base64}`;
    process.stdout.write(`\ninput (${r.payload.contentType}, ${bytes.byteLength} bytes${r.payload.truncated ? ", truncated" : ""}; run it again with riff invocation ${r.id} --rerun):\n${text}\n`);
  }
}

/** `riff trace ID`: every span of a trace as a waterfall, the gateway's request first. */
export async function trace(home: string, id: string, o: { output?: string }): Promise<void> {
  checkId(id, [16, 32], "a trace id (32 hex digits) or an invocation id (16)");
  const t = await new DaemonClient(home).call<{ traceId: string; spans: Span[] }>("GET", `traces/${id}`);
  if (await printData(o.output, t)) return;
  process.stdout.write(waterfall(t.traceId, t.spans));
}

/** The spans as a tree (each under the span it follows) with bars on one time scale. */
export function waterfall(traceId: string, spans: Span[]): string {
  const start = Math.min(...spans.map((s) => s.startedAt));
  const end = Math.max(...spans.map((s) => s.startedAt + s.durationMs));
  const total = Math.max(end - start, 1);
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map<string | undefined, Span[]>();
  for (const s of spans) {
    const parent = s.parentId !== undefined && ids.has(s.parentId) ? s.parentId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const rows: string[][] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const from = Math.floor(((s.startedAt - start) / total) * BAR_WIDTH);
      const len = Math.max(1, Math.round((s.durationMs / total) * BAR_WIDTH));
      const bar = `${" ".repeat(Math.min(from, BAR_WIDTH - 1))}${"█".repeat(Math.min(len, BAR_WIDTH - Math.min(from, BAR_WIDTH - 1)))}`.padEnd(BAR_WIDTH);
      rows.push([`${"  ".repeat(depth)}${label(s)}`, status(s), `+${ms(s.startedAt - start)}`, ms(s.durationMs), bar, s.id]);
      walk(s.id, depth + 1);
    }
  };
  walk(undefined, 0);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] as string).length), ["SPAN", "STATUS", "AT", "DURATION"][i]?.length ?? 0));
  const line = (r: string[]) => `${r.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join("  ")}\n`;
  return `trace ${traceId}: ${spans.length} span(s) in ${ms(total)}\n${line(["SPAN", "STATUS", "AT", "DURATION", "|".padEnd(BAR_WIDTH - 1) + "|", "ID"])}${rows.map(line).join("")}`;
}

function label(s: Span): string {
  if (s.kind === "request") return `POST /${s.path}/${s.topic === "" ? "?" : s.topic}`;
  return `${s.function} ${s.topic}/${s.partition}@${s.offset}${s.attempt > 1 ? ` attempt ${s.attempt}` : ""}${s.cold ? " (cold)" : ""}`;
}

function status(s: Span): string {
  return s.kind === "request" ? String(s.code) : s.error === undefined ? s.status : `${s.status} ${s.error.code}`;
}

function checkId(id: string, lengths: number[], what: string): void {
  if (!lengths.some((n) => new RegExp(`^[0-9a-f]{${n}}$`).test(id))) throw badArgument(`'${id.slice(0, 40)}' is not ${what}`, "riff invocations NAME -o wide shows both ids");
}

/** A duration for people: 0.42 ms, 12.3 ms, 1.24 s. */
function ms(value: number): string {
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${value.toFixed(1)} ms`;
  return `${(value / 1000).toFixed(2)} s`;
}

function oneLine(text: string): string {
  const line = text.replaceAll(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 59)}…` : line;
}
