import { DaemonClient } from "../client.js";
import { badArgument, info, printTable, printData } from "../output.js";

interface SecretSummary {
  name: string;
  keys: string[];
}

/** `riff secrets set NAME KEY=VALUE...`: creates or replaces the whole secret. */
export async function set(home: string, name: string, pairs: string[]): Promise<void> {
  if (pairs.length === 0) throw badArgument(`riff secrets set ${name}: give at least one KEY=VALUE`);
  const data: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    // The value is never echoed: an error names the key only.
    if (eq <= 0) throw badArgument(`'${eq === -1 ? pair.slice(0, 40) : ""}' is not KEY=VALUE`);
    data[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const r = await new DaemonClient(home).call<{ action: string; keys: string[] }>("PUT", `secrets/${encodeURIComponent(name)}`, { data });
  info(`secret/${name} ${r.action} (keys ${r.keys.join(", ")}); functions that name it get them at their next start (riff update -n NAME)`);
}

/** `riff secrets list`: names and keys, never values. */
export async function list(home: string, output: string | undefined): Promise<void> {
  const { secrets } = await new DaemonClient(home).call<{ secrets: SecretSummary[] }>("GET", "secrets");
  if (await printData(output, secrets)) return;
  if (secrets.length === 0) {
    process.stdout.write("No secrets. Create one with: riff secrets set db-creds PASSWORD=...\n");
    return;
  }
  printTable(["NAME", "KEYS"], secrets.map((s) => [s.name, s.keys.join(",")]));
}

/** `riff secrets delete NAME`. */
export async function remove(home: string, name: string): Promise<void> {
  await new DaemonClient(home).call("DELETE", `secrets/${encodeURIComponent(name)}`);
  info(`secret/${name} deleted`);
}
