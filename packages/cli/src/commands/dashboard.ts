import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { DaemonClient } from "../client.js";

/** Programs that open a URL in the user's browser, by platform habit. */
const OPENERS = ["xdg-open", "open"];
/** How long `riff dashboard` waits to hear whether the opener failed. */
const OPENER_WAIT_MS = 3000;

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
  // On Linux, xdg-open with no display (a server, an SSH session) opens nothing and says little.
  const headless = process.platform === "linux" && process.env["DISPLAY"] === undefined && process.env["WAYLAND_DISPLAY"] === undefined;
  const opener = o.printUrl === true || headless ? undefined : OPENERS.map(findOnPath).find((p) => p !== undefined);
  if (opener === undefined) {
    if (o.printUrl !== true) process.stderr.write(`${headless ? "No display to open a browser on" : "No browser opener (xdg-open, open) found"}; open this link yourself (it works once, until ${expiresAt}):\n`);
    process.stdout.write(`${url}\n`);
    return;
  }
  process.stderr.write(`Opening the riff dashboard (the link works once, until ${expiresAt})\n`);
  // A failing opener exits at once; one still running after a while is the browser itself
  // (xdg-open waits for some), so it is left to run and the CLI returns.
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
    const timer = setTimeout(() => {
      child.unref();
      resolve(0);
    }, OPENER_WAIT_MS);
    const done = (outcome: number | string) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    child.on("error", (err) => done(err.message));
    child.on("exit", (c) => done(c ?? "killed"));
  });
  if (code === 0) return;
  process.stderr.write(`${opener} could not open a browser (${typeof code === "number" ? `exit code ${code}` : code}); open this link yourself:\n`);
  process.stdout.write(`${url}\n`);
}
