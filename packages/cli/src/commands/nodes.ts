import { formatDuration, type NodeRow } from "@riff/core";
import { DaemonClient } from "../client.js";
import { printTable, printData } from "../output.js";

/** `riff nodes`: the nodes of this daemon's cluster. */
export async function nodes(home: string, output: string | undefined): Promise<void> {
  const client = new DaemonClient(home);
  const { cluster, nodes: rows } = await client.call<{ cluster: string; nodes: NodeRow[] }>("GET", "nodes");
  if (await printData(output, { cluster, nodes: rows })) return;
  const away = (r: NodeRow) => r.health === "gone" || r.health === "left";
  const unknown = rows.filter((r) => r.health === "unknown").length;
  process.stdout.write(
    unknown === 0
      ? `cluster ${cluster}: ${rows.filter((r) => !away(r)).length} node(s) alive\n\n`
      : `cluster ${cluster}: this node cannot reach NATS, so it cannot tell whether the ${unknown} other node(s) are alive (riff system status says since when)\n\n`,
  );
  printTable(
    ["NODE", "HEALTH", "LEADER", "RUNS", "REPLICAS", "PARTITIONS", "UP", "URL"],
    rows.map((r) => [
      r.name,
      health(r),
      r.leader ? "yes" : "",
      r.runs ?? "-",
      String(r.replicas),
      String(r.partitions.length),
      r.startedAt === "" ? "-" : formatDuration(Date.now() - Date.parse(r.startedAt)),
      r.url || "-",
    ]),
  );
  const held = rows.filter((r) => r.partitions.length > 0);
  if (held.length > 0) {
    process.stdout.write("\npartitions held:\n");
    for (const r of held) process.stdout.write(`  ${r.name}: ${r.partitions.join(", ")}\n`);
  }
}

/** `left 3m ago` for a clean stop, `gone (last seen 12s ago)` for a node that fell silent. */
function health(r: NodeRow): string {
  if (r.lastSeen === undefined) return r.health;
  const ago = formatDuration(Date.now() - Date.parse(r.lastSeen));
  if (r.health === "left") return `left ${ago} ago`;
  if (r.health === "gone") return `gone (last seen ${ago} ago)`;
  if (r.health === "unknown") return `unknown (last seen ${ago} ago)`;
  return r.health;
}
