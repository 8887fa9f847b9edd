import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { DaemonClient } from "../client.js";

/** Programs that open a URL in the user's browser, by platform habit. */
const OPENERS = ["xdg-open", "open"];

function findOnPath(program: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(delimiter)) {
    const path = join(dir, program);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * `riff dashboard`: asks the daemon for a one-time login link (valid once, for two minutes)
 * and opens it in a browser, or prints it with --print-url or when no opener is installed.
 */
export async function dashboard(home: string, o: { printUrl?: boolean }): Promise<void> {
  const client = new DaemonClient(home);
  const { path, expiresAt } = await client.call<{ path: string; expiresAt: string }>("POST", "dashboard/login");
  const url = `${client.info.url}${path}`;
  const opener = o.printUrl === true ? undefined : OPENERS.map(findOnPath).find((p) => p !== undefined);
  if (opener === undefined) {
    if (o.printUrl !== true) process.stderr.write("No browser opener (xdg-open, open) found; open this link yourself:\n");
    process.stdout.write(`${url}\n`);
    return;
  }
  process.stderr.write(`Opening the riff dashboard (the link works once, until ${expiresAt})\n`);
  const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
  child.on("error", () => process.stdout.write(`${url}\n`));
  child.unref();
}
