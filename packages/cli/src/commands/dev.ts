/**
 * `riff dev [NAME]`: the edit-save-see loop. Watches the function's folder and rolls out each
 * save as `riff update` does (a save that does not load keeps the serving revision), streams
 * the function's logs, and with `--data` invokes it after each successful update.
 */
import { statSync, watch, type FSWatcher } from "node:fs";
import { dirname, sep } from "node:path";
import { createInterface } from "node:readline";
import { toRiffError } from "@riff/core";
import { DaemonClient } from "../client.js";

/** `riff dev`'s flags. */
export interface DevOptions {
  /** A payload to send to the function after each successful update; its reply is printed. */
  data?: string;
  /** The payload's Content-Type. @default "text/plain" */
  contentType?: string;
}

interface FunctionDetail {
  name: string;
  artifact: string;
  source?: string;
  inputs: string[];
  revision: number;
}

interface UpdateResult {
  kind: string;
  name: string;
  action: string;
  revision?: number;
}

/**
 * Saves come in bursts (an editor writes a temporary file, renames it, touches the folder):
 * changes this close together are one save.
 */
const SAVE_SETTLE_MS = 100;

/** Paths no save of the function's code touches: VCS, installed packages, editor droppings. */
function ignored(file: string): boolean {
  const parts = file.split(sep);
  const base = parts.at(-1) ?? "";
  return parts.some((p) => p === ".git" || p === "node_modules" || p === "__pycache__") || base.endsWith("~") || base.endsWith(".swp") || base.startsWith(".#");
}

/** The exit code of a process ended by SIGINT, as shells report it. */
const SIGINT_EXIT = 130;

export async function dev(home: string, name: string, o: DevOptions): Promise<void> {
  const client = new DaemonClient(home);
  const fn = await client.call<FunctionDetail>("GET", `functions/${encodeURIComponent(name)}`);
  const folder = statSync(fn.artifact).isDirectory() ? fn.artifact : dirname(fn.artifact);
  const input = fn.inputs[0];
  const out = (line: string) => process.stdout.write(`${line}\n`);
  let revision = fn.revision;

  const invoke = async () => {
    if (o.data === undefined) return;
    if (input === undefined) {
      out(`${name}: --data is not sent: the function has no input topic`);
      return;
    }
    const res = await client.fetch(`/requests/${encodeURIComponent(input)}`, {
      method: "POST",
      auth: true,
      headers: { "content-type": o.contentType ?? "text/plain" },
      body: o.data,
    });
    const text = await res.text();
    out(res.ok ? text : `${name}: the function answered ${res.status}: ${text}`);
  };

  /** Sends --data; a failure to reach the function is said as such, not as a failed save. */
  const send = () => invoke().catch((err: unknown) => process.stderr.write(`${name}: ${toRiffError(err).message}\n`));

  // One rollout at a time: a save during a rollout is rolled out after it, once.
  let running = false;
  let again = false;
  const update = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const results = await client.callWithProgress<UpdateResult[]>("POST", `functions/${encodeURIComponent(name)}/update`);
      const mine = results.find((r) => r.kind === "Function" && r.name === name);
      if (mine?.action === "unchanged") out(`${name}: unchanged (revision ${revision})`);
      else {
        revision = mine?.revision ?? revision;
        out(`${name}: updated to revision ${revision}`);
        await send();
      }
    } catch (err) {
      // The runtime's own message (a SyntaxError, javac's output) says what to fix.
      process.stderr.write(`${name}: this save does not load; revision ${revision} keeps serving:\n${toRiffError(err).message}\n`);
    } finally {
      running = false;
      if (again) {
        again = false;
        await update();
      }
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const onChange = (_event: string, file: string | null) => {
    if (file !== null && ignored(file)) return;
    clearTimeout(timer);
    timer = setTimeout(() => void update(), SAVE_SETTLE_MS);
  };
  const folders = new Set([folder, ...(fn.source === undefined ? [] : [dirname(fn.source)])]);
  const watchers: FSWatcher[] = [...folders].map((f) => watch(f, { recursive: true }, onChange));

  // The function's logs, as `riff logs -f` shows them, until Ctrl-C.
  const logs = new AbortController();
  const streamLogs = async () => {
    const res = await client.fetch(`/api/v1/functions/${encodeURIComponent(name)}/logs?tail=0&follow=true`, { auth: true, signal: logs.signal });
    if (res.body === null) return;
    for await (const chunk of res.body) process.stdout.write(chunk);
  };
  streamLogs().catch((err: unknown) => {
    if (!logs.signal.aborted) process.stderr.write(`${name}: the log stream ended: ${toRiffError(err).message}\n`);
  });

  // On demand: each Enter (a line on stdin) sends --data again.
  const keys = o.data === undefined ? undefined : createInterface({ input: process.stdin });
  keys?.on("line", () => void send());

  const onDemand = o.data === undefined ? "" : "; Enter sends --data again";
  out(`${name}: watching ${[...folders].join(", ")} (revision ${revision}); Ctrl-C to stop${onDemand}`);
  await new Promise<void>((stop) => {
    process.once("SIGINT", () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
      logs.abort();
      keys?.close();
      process.stdin.destroy();
      out(`${name}: stopped at revision ${revision}`);
      process.exitCode = SIGINT_EXIT;
      stop();
    });
  });
}
