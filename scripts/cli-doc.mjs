// Writes docs/cli.md from the CLI's own --help, so the reference cannot drift from the code.
// Run after `npm run build`: node scripts/cli-doc.mjs [OUT] (default docs/cli.md; test/cli-doc.test.ts
// writes it elsewhere and compares).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const riff = join(root, "packages/cli/bin/riff.js");
const help = (args) => execFileSync(process.execPath, [riff, ...args, "--help"], { encoding: "utf8" }).trimEnd();
/** The subcommands a help text lists under "Commands:" (commander's layout), without `help`. */
const subcommands = (text) => {
  const block = text.split("\nCommands:\n")[1];
  if (block === undefined) return [];
  const names = [];
  for (const line of block.split("\n")) {
    if (line.trim() === "") break;
    const m = /^ {2}([a-z][a-z0-9-]*)/.exec(line);
    if (m !== null && m[1] !== "help") names.push(m[1]);
  }
  return names;
};
/** Every command, depth first in the order `--help` lists them: so a new one cannot be left out. */
const walk = (args) => [args, ...subcommands(help(args)).flatMap((s) => walk([...args, s]))];
const commands = walk([]);
const parts = [
  "# The riff CLI",
  "",
  "Generated from `riff <command> --help` by `scripts/cli-doc.mjs`. Every command finds the daemon",
  "through the home (`--home`, `RIFF_HOME`, or `~/.riff`) and talks to it only over its HTTP API.",
  "The global options, listed under `riff` below, go with every command (each command's --help lists them too).",
  "User errors print `Error: ...`, a hint and the error code in parentheses (see docs/errors.md), and exit 1;",
  "riff's own errors print a stack and exit 2.",
];
// The global options are listed once, under `riff`, not under every command (its --help shows them).
const withoutGlobals = (text) => text.replace(/\nGlobal Options:\n(?: {2}.*\n?| {3,}.*\n?)*/, "").trimEnd();
for (const c of commands) parts.push("", `## riff ${c.join(" ")}`.trimEnd(), "", "```", c.length === 0 ? help(c) : withoutGlobals(help(c)), "```");
writeFileSync(process.argv[2] ?? join(root, "docs/cli.md"), `${parts.join("\n")}\n`);
