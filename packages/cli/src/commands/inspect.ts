import { closest, deadLetterTopicOf, formatDuration, isRiffTopic, LOGS_UNANSWERED_HEADER, parseSize, retriesOf, RiffError } from "@riff/core";
import { DaemonClient, errorFrom } from "../client.js";
import { apiClient, onKubernetes } from "../target.js";
import { badArgument, flagDuration, flagWholeNumber, printTable, printData } from "../output.js";

interface FunctionRow {
  name: string;
  invoker: string;
  inputs: string[];
  output?: string;
  status: string;
  error?: string;
  revision: number;
  replicas: { id: string; node?: string; pid: number; state: string; startedAt: number; handled: number; inFlight: number; partitions: number[] }[];
  ready: number;
  desired: number;
  inFlight: number;
  lag: number;
  partitionLag: { topic: string; partition: number; committed: number; end: number; lag: number }[];
  idleTimeoutMs: number;
  minReplicas: number;
  maxReplicas?: number;
  concurrency: number;
  ordering: string;
  retries?: number;
  deadLetter?: string;
  artifact: string;
  handler?: string;
}

interface FunctionDetail extends FunctionRow {
  rates: { replicas: Record<string, number>; arrival: number };
  decisions: { at: string; from: number; to: number; reason: string }[];
  /** In a cluster: replicas per node, and why. */
  placement?: { nodes: Record<string, number>; reason: string; at: string };
  /** In a cluster: the revision each node runs. */
  nodes?: Record<string, { revision: number }>;
  /** Each replica's limits, and its network. */
  resources?: { memoryBytes: number; cpu?: number; pids: number };
  network?: string;
  /** How the last replica that ended unasked ended. */
  lastExit?: string;
  /** Names of the secrets it reads. */
  secrets?: string[];
}

/** `riff list`. */
export async function list(home: string, output: string | undefined): Promise<void> {
  if (onKubernetes()) {
    await (await import("./kube.js")).kubeList(output);
    return;
  }
  const { functions, warnings } = await new DaemonClient(home).call<{ functions: FunctionRow[]; warnings?: string[] }>("GET", "functions");
  for (const w of warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  if (await printData(output, functions)) return;
  if (functions.length === 0) {
    process.stdout.write("No functions. Create one with: riff create node --name square --input numbers --filepath .\n");
    return;
  }
  const wide = output === "wide";
  // wide: how it scales and where its code is, for one look at everything that shapes a function.
  const extra = (f: FunctionRow) => (wide ? [`${f.minReplicas}-${f.maxReplicas ?? "*"}`, String(f.concurrency), formatDuration(f.idleTimeoutMs), f.handler ?? "-", f.artifact] : []);
  printTable(
    ["NAME", "INVOKER", "INPUT", "OUTPUT", "STATUS", "READY", "DESIRED", "LAG", "REVISION", ...(wide ? ["REPLICAS", "CONCURRENCY", "IDLE", "HANDLER", "ARTIFACT"] : [])],
    functions.map((f) => [
      f.name,
      f.invoker,
      f.inputs.join(","),
      f.output ?? "-",
      f.status,
      String(f.ready),
      String(f.desired),
      String(f.lag),
      String(f.revision),
      ...extra(f),
    ]),
  );
  for (const f of functions.filter((x) => x.error !== undefined)) {
    process.stdout.write(`\n${f.name} failed to start:\n${f.error ?? ""}\n`);
  }
}

/** What `riff describe KIND NAME` of an unknown kind says: the kind meant, as a command that works. */
export function describeWhat(kind: string | undefined, name: string | undefined): RiffError {
  const aliases: Record<string, string> = { fn: "function", func: "function", functions: "function", topics: "topic", t: "topic", f: "function" };
  const meant = kind === undefined ? undefined : (aliases[kind] ?? closest(kind, ["function", "topic"]));
  // `riff describe square`: the name came without its kind.
  if (kind !== undefined && name === undefined && meant === undefined) {
    return new RiffError("RIFF_INVALID_ARGUMENT", `riff describe takes a kind, then a name: '${kind}' is not a kind (function or topic)`, {
      hint: `riff describe function ${kind} (or riff describe topic ${kind})`,
    });
  }
  const message = kind === undefined ? "say what to describe: a function or a topic" : `riff describe has no kind '${kind}'${meant === undefined ? "" : `; did you mean '${meant}'?`}`;
  const hint = `riff describe ${meant ?? "function"} ${name ?? "NAME"}${meant === undefined ? " (or riff describe topic NAME)" : ""}`;
  return new RiffError("RIFF_INVALID_ARGUMENT", message, { hint });
}

/** `riff logs -n NAME [-f]`. */
export async function logs(home: string, name: string, follow: boolean, tail: string): Promise<void> {
  flagWholeNumber(tail, "--tail", 0);
  const client = await apiClient(home);
  const res = await client.fetch(
    `/api/v1/functions/${encodeURIComponent(name)}/logs?tail=${encodeURIComponent(tail)}&follow=${String(follow)}`,
    { auth: true },
  );
  if (!res.ok) throw errorFrom(res.status, await res.text());
  const unanswered = res.headers.get(LOGS_UNANSWERED_HEADER);
  if (unanswered !== null && unanswered !== "") {
    // On stderr, before the lines: the history shown has holes, and the reader should know whose.
    const list = unanswered.split(",");
    const who = list.length === 1 ? `node ${list[0]} did not answer in time; its lines are missing` : `nodes ${list.join(", ")} did not answer in time; their lines are missing`;
    process.stderr.write(`warning: ${who} (riff nodes shows each node's health)\n`);
  }
  if (res.body === null) return;
  for await (const chunk of res.body) process.stdout.write(chunk);
}

interface TopicDescription {
  name: string;
  partitions: number;
  replicas?: number;
  retentionMs: number;
  retentionBytes: number;
  durability: string;
  /** Publishes per second through the gateway, all callers together; absent: unlimited. */
  rate?: number;
  sizeBytes: number;
  offsets: { partition: number; start: number; end: number }[];
  groups: { group: string; lag: number; partitions: { partition: number; committed: number; lag: number }[] }[];
}

/** `--rate N` (publishes per second, above 0) or `--rate none`; undefined leaves the topic's rate as it is. */
function flagRate(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === "none") return null;
  const rate = Number(value);
  if (value.trim() === "" || !Number.isFinite(rate) || rate <= 0 || rate > 1_000_000) {
    throw badArgument(`--rate ${value}: must be publishes per second, above 0 and at most 1000000, or none`, "--rate 100 (or --rate none to lift it)");
  }
  return rate;
}

function rateOf(t: TopicDescription): string {
  return t.rate === undefined ? "no rate" : `at most ${t.rate}/s through the gateway, all callers together`;
}

/** `riff topics create|list|describe|delete`. */
export const topics = {
  async create(home: string, name: string, o: { partitions?: string; retention?: string; retentionBytes?: string; durability?: string; replicas?: string; rate?: string }): Promise<void> {
    const body = {
      name,
      partitions: flagWholeNumber(o.partitions, "--partitions", 1),
      retentionMs: o.retention === undefined ? undefined : flagDuration(o.retention, "--retention"),
      retentionBytes: o.retentionBytes === undefined ? undefined : parseSize(o.retentionBytes, "--retention-bytes"),
      durability: o.durability,
      replicas: flagWholeNumber(o.replicas, "--replicas", 1),
      rate: flagRate(o.rate),
    };
    const t = await new DaemonClient(home).call<TopicDescription & { action: string }>("POST", "topics", body);
    process.stdout.write(
      `topic/${t.name} ${t.action}: ${t.partitions} partition(s), retention ${formatDuration(t.retentionMs)} or ${t.retentionBytes} bytes, durability ${t.durability}${t.rate !== undefined || o.rate !== undefined ? `, ${rateOf(t)}` : ""}\n`,
    );
  },
  async list(home: string, output: string | undefined, showAll = false): Promise<void> {
    // On Kubernetes, the riff cluster's topics as its gateway sees them (Topic resources are kubectl's to list).
    const { topics: every } = await (await apiClient(home)).call<{ topics: TopicDescription[] }>("GET", "topics");
    // riff's own topics (riff-dead-letters) only with --all.
    const all = showAll ? every : every.filter((t) => !isRiffTopic(t.name));
    if (await printData(output, all)) return;
    printTable(["NAME", "PARTITIONS", "REPLICAS", "DURABILITY", "RETENTION"], all.map((t) => [t.name, String(t.partitions), String(t.replicas ?? 1), t.durability, formatDuration(t.retentionMs)]));
  },
  async describe(home: string, name: string, output: string | undefined): Promise<void> {
    const t = await (await apiClient(home)).call<TopicDescription>("GET", `topics/${encodeURIComponent(name)}`);
    if (await printData(output, t)) return;
    process.stdout.write(
      `topic ${t.name}: ${t.partitions} partition(s), ${t.replicas ?? 1} cop${(t.replicas ?? 1) === 1 ? "y" : "ies"}, ${t.durability} durability, ${t.sizeBytes} bytes on disk\n` +
        `retention: ${formatDuration(t.retentionMs)} or ${t.retentionBytes} bytes\n` +
        `rate: ${rateOf(t)}\n\n`,
    );
    printTable(["PARTITION", "START", "END"], t.offsets.map((o) => [String(o.partition), String(o.start), String(o.end)]));
    if (t.groups.length > 0) {
      process.stdout.write("\n");
      printTable(
        ["GROUP", "PARTITION", "COMMITTED", "LAG"],
        t.groups.flatMap((g) => g.partitions.map((p) => [g.group, String(p.partition), String(p.committed), String(p.lag)])),
      );
    }
  },
  async delete(home: string, name: string, force = false): Promise<void> {
    const { deleted } = await new DaemonClient(home).call<{ deleted: string[] }>("DELETE", `topics/${encodeURIComponent(name)}${force ? "?force=true" : ""}`);
    for (const d of deleted) process.stdout.write(`${d} deleted\n`);
  },
  async recover(home: string, name: string | undefined, all: boolean): Promise<void> {
    if ((name === undefined) === !all) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", name === undefined ? "which topic? name one, or pass --all" : `--all recovers every topic: leave out the name '${name}', or --all`, {
        hint: "riff topics recover numbers   or   riff topics recover --all",
      });
    }
    const client = new DaemonClient(home);
    const recovered = name === undefined ? (await client.call<{ recovered: TopicDescription[] }>("POST", "topics/recover")).recovered : [await client.call<TopicDescription>("POST", `topics/${encodeURIComponent(name)}/recover`)];
    if (recovered.length === 0) process.stdout.write("no topic had lost its record: nothing to recover\n");
    for (const t of recovered) {
      process.stdout.write(`topic/${t.name} recovered: ${t.partitions} partition(s), retention ${formatDuration(t.retentionMs)} or ${t.retentionBytes} bytes, durability ${t.durability}\n`);
    }
  },
};

/** `riff describe function NAME`: spec, replicas, lag per partition, rates and the last scaling decisions. */
export async function describeFunction(home: string, name: string, output: string | undefined): Promise<void> {
  if (onKubernetes()) {
    await (await import("./kube.js")).kubeDescribe(name, output);
    return;
  }
  const client = new DaemonClient(home);
  const f = await client.call<FunctionDetail & { warnings?: string[] }>("GET", `functions/${encodeURIComponent(name)}`);
  for (const warning of f.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
  if (await printData(output, f)) return;
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w(`function ${f.name} (revision ${f.revision}): ${f.status}${f.error === undefined ? "" : `\n  ${f.error}`}`);
  const behind = Object.entries(f.nodes ?? {}).filter(([, n]) => n.revision !== f.revision);
  if (behind.length > 0) w(`  updating: ${behind.map(([node, n]) => `${node} still runs revision ${n.revision}`).join(", ")}`);
  w(`  invoker ${f.invoker}, artifact ${f.artifact}${f.handler === undefined ? "" : `, handler ${f.handler}`}`);
  w(`  input ${f.inputs.join(", ")}${f.output === undefined ? "" : `, output ${f.output}`}, ordering ${f.ordering}, concurrency ${f.concurrency}`);
  w(`  replicas: min ${f.minReplicas}, max ${f.maxReplicas ?? "partitions"}, idle timeout ${formatDuration(f.idleTimeoutMs)}`);
  w(`  retries ${retriesOf(f)}, then dead letters to ${deadLetterTopicOf(f)} (riff dead-letters list ${f.name})`);
  const where = await client.call<{ sandbox: string; limits?: string }>("GET", "status");
  const r = f.resources;
  const limits = r === undefined ? "riff's defaults" : `memory ${formatBytes(r.memoryBytes)}, pids ${r.pids}, cpu ${r.cpu ?? "unlimited"}`;
  w(`  sandbox ${where.sandbox === "none" ? "none (riff runs functions unsandboxed)" : where.sandbox}, network ${f.network ?? "host"}; limits ${limits}, enforced by ${where.limits ?? "nothing"}`);
  if (f.secrets !== undefined && f.secrets.length > 0) w(`  secrets ${f.secrets.join(", ")} (their values are not shown)`);
  if (f.lastExit !== undefined) w(`  last exit: ${f.lastExit}`);
  w(`  ${f.ready} ready of ${f.desired} desired, ${f.inFlight} in flight, lag ${f.lag}, arriving ${f.rates.arrival.toFixed(1)} msg/s\n`);
  if (f.placement !== undefined) {
    const where = Object.entries(f.placement.nodes).map(([node, n]) => (n === 0 ? `${node} (standby)` : `${node}: ${n}`));
    w(`  placed on ${where.join(", ") || "no node"} at ${f.placement.at}: ${f.placement.reason}\n`);
  }
  if (f.replicas.length > 0) {
    const cluster = f.replicas.some((r) => r.node !== undefined);
    printTable(
      [...(cluster ? ["NODE"] : []), "REPLICA", "PID", "STATE", "UPTIME", "HANDLED", "IN FLIGHT", "MSG/S", "PARTITIONS"],
      f.replicas.map((r) => [
        ...(cluster ? [r.node ?? "-"] : []),
        r.id,
        String(r.pid),
        r.state,
        formatDuration(Date.now() - r.startedAt),
        String(r.handled),
        String(r.inFlight),
        (f.rates.replicas[r.id] ?? 0).toFixed(1),
        r.partitions.join(",") || "-",
      ]),
    );
    w("");
  }
  printTable(["TOPIC", "PARTITION", "COMMITTED", "END", "LAG"], f.partitionLag.map((p) => [p.topic, String(p.partition), String(p.committed), String(p.end), String(p.lag)]));
  w("\nscaling decisions (newest last):");
  if (f.decisions.length === 0) w("  none yet");
  for (const d of f.decisions) w(`  ${d.at}  ${d.from} -> ${d.to}  ${d.reason}`);
}

/** 536870912 → 512Mi, as limits are written. */
function formatBytes(n: number): string {
  for (const [unit, size] of [["Gi", 1024 ** 3], ["Mi", 1024 ** 2], ["Ki", 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return `${n} bytes`;
}
