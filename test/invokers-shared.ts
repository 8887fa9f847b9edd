// Shared by the invokers-*.test.ts suites: deploy a function from files and call it.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { CliResult, RiffFixture } from "./helpers/riff.js";

/** A file to write: its text, or its text and mode (0o755 for a script). */
export type FileSpec = string | { text: string; mode: number };

/** Writes `files` in a fresh folder and runs `riff create <invoker> --name <name> --input <name>-in`. */
export async function deploy(
  riff: RiffFixture,
  invoker: string,
  name: string,
  files: Record<string, FileSpec>,
  flags: string[] = [],
): Promise<CliResult & { dir: string; input: string }> {
  const dir = mkdtempSync(join(riff.work, `${name}-`));
  for (const [path, spec] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, typeof spec === "string" ? spec : spec.text);
    if (typeof spec !== "string") chmodSync(file, spec.mode);
  }
  const input = `${name}-in`;
  const r = await riff.cli(["create", invoker, "--name", name, "--input", input, "--filepath", dir, ...flags], dir);
  return { ...r, dir, input };
}

/** POSTs to `/requests/<topic>` and returns status, content type and body text. */
export async function request(
  riff: RiffFixture,
  topic: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string | null; text: string; bytes: Uint8Array }> {
  const res = await fetch(`${riff.url}/requests/${topic}`, { method: "POST", body, headers });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get("content-type"), text: Buffer.from(bytes).toString("utf8"), bytes };
}

/** The `{error}` body of a failed request. */
export function errorOf(text: string): { code: string; message: string; details?: { stack?: string; name?: string } } {
  return (JSON.parse(text) as { error: { code: string; message: string; details?: { stack?: string; name?: string } } }).error;
}

/** riff's conformance check: `riff publish --input X --data hello --reply` prints HELLO. */
export async function publishHello(riff: RiffFixture, input: string): Promise<CliResult> {
  return riff.cli(["publish", "--input", input, "--data", "hello", "--reply"]);
}

/** The pids of a function's replicas, from `riff list -o json`. */
export async function replicaPids(riff: RiffFixture, name: string): Promise<(number | undefined)[]> {
  const list = JSON.parse((await riff.cli(["list", "-o", "json"])).stdout) as { name: string; replicas: { pid?: number }[] }[];
  return list.find((f) => f.name === name)?.replicas.map((r) => r.pid) ?? [];
}

/** The contract's refusals: an unsupported Content-Type is a 415, an unsatisfiable Accept a 406, each with its code. */
export async function expectContentRefusals(riff: RiffFixture, topic: string): Promise<void> {
  const badType = await request(riff, topic, "<a/>", { "content-type": "application/xml" });
  const badAccept = await request(riff, topic, "x", { accept: "image/png, image/*;q=0.5" });
  const outcome = [badType, badAccept].map((r) => [r.status, errorOf(r.text).code]);
  if (JSON.stringify(outcome) !== JSON.stringify([[415, "RIFF_CONTENT_TYPE_UNSUPPORTED"], [406, "RIFF_ACCEPT_UNSUPPORTED"]])) {
    throw new Error(`expected 415 and 406 refusals from ${topic}, got ${JSON.stringify(outcome)}`);
  }
}

/**
 * {@link expectContentRefusals}, and that the function was not called for them: `topic`'s
 * function answers JSON with `calls`, the number of times it ran.
 */
export async function expectRefusedUncalled(riff: RiffFixture, topic: string): Promise<void> {
  const calls = async () => (JSON.parse((await request(riff, topic, "x", { accept: "application/json" })).text) as { calls: number }).calls;
  const before = await calls();
  await expectContentRefusals(riff, topic);
  const after = await calls();
  if (after !== before + 1) throw new Error(`the function behind ${topic} ran ${after - before - 1} times for refused messages`);
}
