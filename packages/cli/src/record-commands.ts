// `riff invocations`, `riff invocation` and `riff trace`: the declarations only; the actions
// load when a command runs.
import { Option, type Command } from "commander";
import { example, output, run } from "./command-kit.js";

type Records = typeof import("./commands/records.js");

/** Adds `riff invocations [NAME]`, `riff invocation ID` and `riff trace ID` to `program`. */
export function addRecordCommands(program: Command): void {
  const rc = <K extends keyof Records>(k: K) => run(async () => (await import("./commands/records.js"))[k] as unknown as (home: string, ...args: unknown[]) => Promise<void>);
  example(
    program
      .command("invocations")
      .description("list the latest invocations of function NAME (of every function without NAME), newest first: status, attempt, cold or warm, queue wait, duration")
      .argument("[name]", "function name")
      .addOption(new Option("--status <status>", "only these").choices(["success", "error", "timeout"]))
      .option("--limit <n>", "how many (1 to 1000)", "20")
      .addOption(new Option("-o, --output <format>", "output format; wide adds the trace id, topic and replica").choices(["text", "wide", "json"]))
      .action(rc("list")),
    `riff invocations square
  riff invocations square --status error -o json
  riff invocation 3f2a9c0d1b2e4f56          # one of them whole, with a failed run's input
  riff trace 3f2a9c0d1b2e4f56               # its whole pipeline`,
  );
  example(
    program
      .command("invocation")
      .description("show one invocation record whole: where the message came from, how it ran, its error and (when it failed) its input")
      .argument("<id>", "the invocation's id, as riff invocations lists it")
      .option("--rerun", "publish the failed run's input again to the topic it came from")
      .addOption(output())
      .action(rc("show")),
    "riff invocation 3f2a9c0d1b2e4f56\n  riff invocation 3f2a9c0d1b2e4f56 --rerun",
  );
  example(
    program
      .command("trace")
      .description("show a message's way through riff as a waterfall: the gateway request and each function it passed through")
      .argument("<id>", "a trace id (32 hex digits) or the id of one of its invocations (16)")
      .addOption(output())
      .action(rc("trace")),
    "riff trace 3f2a9c0d1b2e4f56\n  curl -i -X POST localhost:8080/requests/numbers -d 3   # answers with its traceparent: 00-TRACEID-...",
  );
}
