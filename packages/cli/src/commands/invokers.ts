import { DaemonClient } from "../client.js";
import { printTable, printData } from "../output.js";
import { apply } from "./resources.js";

interface InvokerRow {
  name: string;
  description: string;
  matchers: string[];
  builtin: boolean;
  protocol?: string;
}

/** `riff invokers apply|list|delete`. */
export const invokers = {
  apply: (home: string, file: string, dryRun: boolean) => apply(home, file, dryRun),
  async list(home: string, output: string | undefined): Promise<void> {
    const { invokers: all } = await new DaemonClient(home).call<{ invokers: InvokerRow[] }>("GET", "invokers");
    if (await printData(output, all)) return;
    printTable(
      ["NAME", "KIND", "FINDS", "DESCRIPTION"],
      all.map((i) => [i.name, i.builtin ? "built-in" : `user (${i.protocol ?? "?"})`, i.matchers.join(" "), i.description]),
    );
  },
  async delete(home: string, name: string): Promise<void> {
    const { deleted } = await new DaemonClient(home).call<{ deleted: string[] }>("DELETE", `invokers/${encodeURIComponent(name)}`);
    for (const d of deleted) process.stdout.write(`${d} deleted\n`);
  },
};
