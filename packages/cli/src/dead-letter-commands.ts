// `riff dead-letters ...`: the declarations only; the actions load when a command runs.
import type { Command } from "commander";
import { example, output, run } from "./command-kit.js";

type DeadLetters = typeof import("./commands/dead-letters.js");

/** Adds `riff dead-letters list|show|redrive|purge` to `program`. */
export function addDeadLetterCommands(program: Command): void {
  const deadLetters = example(
    program.command("dead-letters").description("see, run again and empty the messages a function failed on"),
    "riff dead-letters list square\n  riff dead-letters redrive square",
  );
  const dl = <K extends keyof DeadLetters>(k: K) => run(async () => (await import("./commands/dead-letters.js"))[k] as unknown as (home: string, ...args: unknown[]) => Promise<void>);
  example(
    deadLetters.command("list").description("list function NAME's dead letters: offset, time, error code, attempts, source").argument("<name>", "function name").addOption(output()).action(dl("list")),
    "riff dead-letters list orders",
  );
  example(
    deadLetters.command("show").description("print one dead letter whole: every header and the payload").argument("<name>", "function name").argument("<offset>", "OFFSET, or PARTITION@OFFSET as list shows it")
      .option("-p, --partition <n>", "the partition, when OFFSET does not say", "0").addOption(output()).action(dl("show")),
    "riff dead-letters show orders 0@3 -o json",
  );
  example(
    deadLetters.command("redrive").description("publish NAME's dead letters again to the topics they came from (once the bug is fixed); they leave the list").argument("<name>", "function name")
      .option("--to <topic>", "publish them to this topic instead").addOption(output()).action(dl("redrive")),
    "riff update -n orders && riff dead-letters redrive orders\n  riff dead-letters redrive orders --to orders-replay",
  );
  example(
    deadLetters.command("purge").description("empty NAME's dead-letter topic: list shows none of what is there now").argument("<name>", "function name").addOption(output()).action(dl("purge")),
    "riff dead-letters purge orders",
  );
}
