// `riff version`, `riff completion bash|zsh|fish` and the hidden `riff __names` the completion
// scripts call: the declarations only.
import type { Command } from "commander";
import { example, run, VERSION } from "./command-kit.js";

/** Adds `riff version`, `riff completion` and `riff __names` to `program`. */
export function addShellCommands(program: Command): void {
  example(
    program
      .command("version")
      .description("print the version of the CLI, and of the daemon when one runs")
      .action(run(async () => async (home: string) => {
        process.stdout.write(`riff CLI ${VERSION}\n`);
        const { readDaemonInfo } = await import("./client.js");
        const daemon = readDaemonInfo(home);
        if (daemon !== undefined) process.stdout.write(`riff daemon ${daemon.version} (pid ${daemon.pid}, ${daemon.url})\n`);
      })),
    "riff version\n  riff --version      # the CLI's alone, as -V",
  );
  example(
    program
      .command("completion")
      .description("print a completion script for bash, zsh or fish; it completes commands, flags, and the daemon's function and topic names")
      .argument("<shell>", "bash, zsh or fish")
      .action(run(async () => async (_home: string, shell: string) => {
        const { completionScript } = await import("./commands/completion.js");
        process.stdout.write(completionScript(program, shell));
      })),
    "riff completion bash > /etc/bash_completion.d/riff\n  source <(riff completion zsh)\n  riff completion fish > ~/.config/fish/completions/riff.fish",
  );
  program
    .command("__names", { hidden: true })
    .description("print the daemon's function and topic names, one a line (for completion scripts)")
    .action(run(async () => async (home: string) => (await import("./commands/completion.js")).names(home)));
}
