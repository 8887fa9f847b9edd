import { DaemonClient } from "../client.js";
import { flagWholeNumber, printData, printTable } from "../output.js";

interface RevisionRow {
  revision: number;
  updatedAt: string;
  digest: string;
  invoker: string;
  handler?: string;
  artifact: string;
}

/** `riff revisions NAME`: the revisions a function keeps, oldest first; the last one runs. */
export async function revisions(home: string, name: string, o: { output?: string }): Promise<void> {
  const { revisions: rows } = await new DaemonClient(home).call<{ revisions: RevisionRow[] }>("GET", `functions/${encodeURIComponent(name)}/revisions`);
  if (await printData(o.output, rows)) return;
  const last = rows.at(-1)?.revision;
  printTable(
    ["REVISION", "CREATED", "CODE", "HANDLER", ...(o.output === "wide" ? ["ARTIFACT"] : []), ""],
    rows.map((r) => [String(r.revision), r.updatedAt, r.digest.slice(0, 12), r.handler ?? "-", ...(o.output === "wide" ? [r.artifact] : []), r.revision === last ? "(running)" : ""]),
  );
}

/** `riff rollback NAME [--to N]`: that revision's code and settings as a new revision, rolled out safely. */
export async function rollback(home: string, name: string, o: { to?: string }): Promise<void> {
  const to = flagWholeNumber(o.to, "--to", 1);
  const [r] = await new DaemonClient(home).callWithProgress<{ action: string; revision?: number }[]>("POST", `functions/${encodeURIComponent(name)}/rollback`, to === undefined ? {} : { to });
  process.stdout.write(`function/${name} rolled back${to === undefined ? "" : ` to revision ${to}`}: ${r?.action ?? "updated"} (revision ${r?.revision ?? "?"})\n`);
}
