// Writes docs/cli.md from the CLI's own --help, so the reference cannot drift from the code.
// Run after `npm run build`: node scripts/cli-doc.mjs
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const riff = join(root, "packages/cli/bin/riff.js");
const help = (args) => execFileSync(process.execPath, [riff, ...args, "--help"], { encoding: "utf8" }).trimEnd();
const commands = [
  [], ["system", "start"], ["system", "stop"], ["system", "install"], ["system", "status"], ["dashboard"], ["nodes"], ["create"], ["apply"], ["update"], ["dev"],
  ["delete"], ["publish"], ["list"], ["describe", "function"], ["describe", "topic"], ["graph"], ["logs"],
  ["topics", "create"], ["topics", "list"], ["topics", "describe"], ["topics", "tail"], ["topics", "delete"], ["topics", "recover"],
  ["dead-letters", "list"], ["dead-letters", "show"], ["dead-letters", "redrive"], ["dead-letters", "purge"],
  ["invokers", "apply"], ["invokers", "list"], ["invokers", "delete"],
];
const parts = [
  "# The riff CLI",
  "",
  "Generated from `riff <command> --help` by `scripts/cli-doc.mjs`. Every command finds the daemon",
  "through the home (`--home`, `RIFF_HOME`, or `~/.riff`) and talks to it only over its HTTP API.",
  "User errors print `Error: ...`, a hint and the error code in parentheses (see docs/errors.md), and exit 1;",
  "riff's own errors print a stack and exit 2.",
];
for (const c of commands) parts.push("", `## riff ${c.join(" ")}`.trimEnd(), "", "```", help(c), "```");
writeFileSync(join(root, "docs/cli.md"), `${parts.join("\n")}\n`);
