import { execFileSync } from "node:child_process";
import { expect } from "vitest";
import { deployNode } from "./functions.js";
import type { RiffFixture } from "./riff.js";

/** A request to `topic`, its status and its body (parsed when JSON). */
export async function ask(riff: RiffFixture, topic: string, body = "x"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${riff.url}/requests/${topic}`, { method: "POST", body, headers: { "content-type": "text/plain" } });
  const text = await res.text();
  return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text };
}

/** Deploys a Node function `name` reading `<name>-in`. */
export async function deploy(riff: RiffFixture, name: string, source: string, flags: string[] = []): Promise<void> {
  const d = await deployNode(riff, name, source, ["--input", `${name}-in`, ...flags]);
  expect(d.code, d.stderr).toBe(0);
}

/** How many processes run with `marker` in their command line. */
export function running(marker: string): number {
  try {
    return execFileSync("pgrep", ["-f", marker]).toString().trim().split("\n").length;
  } catch {
    return 0;
  }
}

/** A function that, given "bomb", allocates 1 MiB after 1 MiB for ever; otherwise answers "fine". */
export const MEMORY_BOMB = `module.exports = (x) => { if (x !== "bomb") return "fine"; const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1)); };\n`;

/** A function that, given "bomb", starts 500 shells sleeping with `marker` in their command line. */
export function forkBomb(marker: string): string {
  return `const { spawn } = require("node:child_process");
module.exports = async (x) => {
  if (x !== "bomb") return "fine";
  const started = [];
  for (let i = 0; i < 500; i++) {
    const c = spawn("/bin/sh", ["-c", "sleep 600; : ${marker}"], { stdio: "ignore" });
    started.push(new Promise((resolve, reject) => { c.once("spawn", resolve); c.once("error", reject); }));
  }
  await Promise.all(started);
  return "all started";
};
`;
}
