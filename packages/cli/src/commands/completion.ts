import type { Command } from "commander";
import { DaemonClient } from "../client.js";
import { badArgument } from "../output.js";

/** Every command path (`topics create`) with its subcommands and flags. */
function table(program: Command): { path: string; subcommands: string[]; flags: string[] }[] {
  const out: { path: string; subcommands: string[]; flags: string[] }[] = [];
  const walk = (cmd: Command, path: string) => {
    const visible = cmd.commands.filter((c) => !c.name().startsWith("__"));
    const flags = cmd.options.flatMap((o) => [o.short, o.long]).filter((f): f is string => f !== undefined);
    out.push({ path, subcommands: visible.map((c) => c.name()), flags: [...flags, "--help"] });
    for (const c of visible) walk(c, path === "" ? c.name() : `${path} ${c.name()}`);
  };
  walk(program, "");
  return out;
}

/** The completion script for `shell`. Names come from `riff __names`, so they are the daemon's of the moment. */
export function completionScript(program: Command, shell: string): string {
  const rows = table(program);
  if (shell === "bash" || shell === "zsh") {
    const cases = rows
      .map((r) => `    "${r.path}") words="${[...r.subcommands, ...r.flags].join(" ")}" ;;`)
      .join("\n");
    const body = `_riff() {
  local cur path w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) if [ -z "$path" ]; then path="$w"; else path="$path $w"; fi ;; esac
  done
  while :; do
    case "$path" in
${cases}
    *) if [ "$path" = "\${path% *}" ]; then path=""; else path="\${path% *}"; fi; continue ;;
    esac
    break
  done
  COMPREPLY=($(compgen -W "$words $(riff __names 2>/dev/null)" -- "$cur"))
}
complete -F _riff riff
`;
    return shell === "zsh" ? `autoload -U +X bashcompinit && bashcompinit\n${body}` : body;
  }
  if (shell === "fish") {
    const lines = ["complete -c riff -f", "complete -c riff -n '__fish_use_subcommand' -a '(riff __names 2>/dev/null)'"];
    for (const r of rows) {
      const cond = r.path === "" ? "__fish_use_subcommand" : `__fish_seen_subcommand_from ${r.path.split(" ").at(-1) ?? ""}`;
      if (r.subcommands.length > 0) lines.push(`complete -c riff -n '${cond}' -a '${r.subcommands.join(" ")}'`);
      for (const f of r.flags.filter((x) => x.startsWith("--"))) lines.push(`complete -c riff -n '${cond}' -l '${f.slice(2)}'`);
    }
    lines.push("complete -c riff -n 'not __fish_use_subcommand' -a '(riff __names 2>/dev/null)'");
    return `${lines.join("\n")}\n`;
  }
  throw badArgument(`completion ${shell}: riff writes scripts for bash, zsh and fish`, "riff completion bash");
}

/** `riff __names`: function and topic names, or nothing when no daemon runs (a completion must not fail). */
export async function names(home: string): Promise<void> {
  try {
    const client = new DaemonClient(home);
    const [{ functions }, { topics }] = await Promise.all([
      client.call<{ functions: { name: string }[] }>("GET", "functions"),
      client.call<{ topics: { name: string }[] }>("GET", "topics"),
    ]);
    process.stdout.write([...new Set([...functions, ...topics].map((x) => x.name))].map((n) => `${n}\n`).join(""));
  } catch {
    // No daemon, no names: commands and flags still complete.
  }
}
