import { assertValidName, type DeadLetterRow, type RedriveResult } from "@riff/core";
import { DaemonClient } from "../client.js";
import { badArgument, info, printTable, printData } from "../output.js";

interface Box {
  function: string;
  topic: string;
}

const path = (name: string, rest = "") => {
  assertValidName(name, "function name");
  return `functions/${encodeURIComponent(name)}/dead-letters${rest}`;
};

/** `riff dead-letters list NAME`: the function's dead letters, oldest first. */
export async function list(home: string, name: string, o: { output?: string }): Promise<void> {
  const box = await new DaemonClient(home).call<Box & { deadLetters: DeadLetterRow[] }>("GET", path(name));
  if (await printData(o.output, box)) return;
  if (box.deadLetters.length === 0) {
    info(`no dead letters for function '${name}' (topic ${box.topic})`);
    return;
  }
  printTable(
    ["OFFSET", "TIME", "CODE", "ATTEMPTS", "SOURCE", "REASON"],
    box.deadLetters.map((d) => [`${d.partition}@${d.offset}`, new Date(d.timestamp).toISOString(), d.code, String(d.attempts), d.source, oneLine(d.reason)]),
  );
}

/** `riff dead-letters show NAME OFFSET`: one dead letter whole, headers and payload. */
export async function show(home: string, name: string, at: string, o: { partition?: string; output?: string }): Promise<void> {
  let partition = o.partition ?? "0";
  let offset = at;
  const m = /^(\d+)@(\d+)$/.exec(at);
  if (m !== null) [partition, offset] = [m[1] ?? "0", m[2] ?? ""];
  if (!/^\d+$/.test(offset) || !/^\d+$/.test(partition)) throw badArgument(`'${at}' is not an offset`, "write OFFSET or PARTITION@OFFSET, as `riff dead-letters list` shows it (e.g. 0@3)");
  const letter = await new DaemonClient(home).call<{ partition: number; offset: number; timestamp: number; key: string | null; headers: Record<string, string[]>; payload: string; encoding: string }>(
    "GET",
    path(name, `/${partition}/${offset}`),
  );
  if (await printData(o.output, letter)) return;
  process.stdout.write(`${letter.partition}@${letter.offset} ${new Date(letter.timestamp).toISOString()}${letter.key === null ? "" : ` key=${letter.key}`}\n`);
  for (const [k, v] of Object.entries(letter.headers)) for (const value of v) process.stdout.write(`${k}: ${value.replaceAll("\n", "\n  ")}\n`);
  process.stdout.write(`\n${letter.encoding === "utf8" ? letter.payload : `(base64) ${letter.payload}`}\n`);
}

/** `riff dead-letters redrive NAME`: publishes them again, to where they came from or `--to`. */
export async function redrive(home: string, name: string, o: { to?: string; output?: string }): Promise<void> {
  if (o.to !== undefined) assertValidName(o.to, "--to");
  const r = await new DaemonClient(home).call<Box & RedriveResult>("POST", path(name, "/redrive"), o.to === undefined ? {} : { to: o.to });
  if (await printData(o.output, r)) return;
  const where = Object.entries(r.to).map(([t, n]) => `${n} to ${t}`).join(", ");
  process.stdout.write(`redrove ${r.redriven} dead letter(s) of function '${name}'${where === "" ? "" : `: ${where}`}\n`);
  if (r.left > 0) info(`${r.left} kept back: they sit behind another function's dead letters in the shared topic ${r.topic}`);
}

/** `riff dead-letters purge NAME`: empties the function's dead-letter topic. */
export async function purge(home: string, name: string, o: { output?: string }): Promise<void> {
  const r = await new DaemonClient(home).call<Box & { purged: number }>("POST", path(name, "/purge"));
  if (await printData(o.output, r)) return;
  process.stdout.write(`purged ${r.purged} dead letter(s) from topic ${r.topic}\n`);
}

function oneLine(text: string): string {
  const line = text.replaceAll(/\s+/g, " ");
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}
