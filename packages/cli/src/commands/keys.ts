import { DaemonClient } from "../client.js";
import { badArgument, info, printTable, printData } from "../output.js";

interface KeyRow {
  id: string;
  topics: string[];
  rate: number | null;
  createdAt: string;
}

/** `riff keys create --topic T... [--rate N]`: prints the key once; riff keeps only its hash. */
export async function create(home: string, o: { topic: string[]; rate?: string }): Promise<void> {
  if (o.topic.length === 0) throw badArgument("riff keys create: give at least one --topic", "riff keys create --topic orders");
  const rate = o.rate === undefined ? undefined : Number(o.rate);
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw badArgument(`--rate ${o.rate}: must be a number of requests per second above 0`, "--rate 100");
  const r = await new DaemonClient(home).call<{ id: string; key: string }>("POST", "keys", { topics: o.topic, ...(rate === undefined ? {} : { rate }) });
  info(`key ${r.id} created for ${o.topic.join(", ")}${rate === undefined ? "" : ` at ${rate}/s per topic`}; it is shown this once: riff keeps only its hash`);
  info("from now on the gateway wants a key on every publish: Authorization: Bearer KEY");
  process.stdout.write(`${r.key}\n`);
}

/** `riff keys list`: ids, topics and rates, never the keys. */
export async function list(home: string, output: string | undefined): Promise<void> {
  const { keys } = await new DaemonClient(home).call<{ keys: KeyRow[] }>("GET", "keys");
  if (await printData(output, keys)) return;
  if (keys.length === 0) {
    process.stdout.write("No API keys: the gateway takes publishes from anyone who reaches it. Create one with: riff keys create --topic TOPIC\n");
    return;
  }
  printTable(["ID", "TOPICS", "RATE", "CREATED"], keys.map((k) => [k.id, k.topics.join(","), k.rate === null ? "-" : `${k.rate}/s`, k.createdAt]));
}

/** `riff keys delete ID`. */
export async function remove(home: string, id: string): Promise<void> {
  await new DaemonClient(home).call("DELETE", `keys/${encodeURIComponent(id)}`);
  info(`key ${id} deleted`);
}
