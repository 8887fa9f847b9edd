// `riff list`, `riff graph` and `riff describe`: the declarations only; the actions load when a
// command runs.
import { Option, type Command } from "commander";
import { example, output, run } from "./command-kit.js";

/** Adds the commands that show what is deployed to `program`. */
export function addInspectCommands(program: Command): void {
  example(
    program
      .command("list")
      .description("list functions with their topics, status, replicas and lag")
      .addOption(output())
      .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/inspect.js")).list(home, o.output))),
    "riff list -o json",
  );

  example(
    program
      .command("graph")
      .description("print topics and functions as a graph: in the terminal, or as Graphviz dot or Mermaid")
      .addOption(new Option("-o, --output <format>", "output format").choices(["text", "dot", "mermaid", "json", "yaml"]))
      .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/graph.js")).graph(home, o.output))),
    "riff graph -o mermaid",
  );

  const describeCmd = program
    .command("describe")
    .description("show one resource in detail")
    .argument("[kind]", "function or topic")
    .argument("[name]", "its name")
    // Reached only for a kind that is no subcommand (`riff describe fn square`): name the right one.
    .action(run(async () => async (_home: string, kind: string | undefined, name: string | undefined) => {
      const { describeWhat } = await import("./commands/inspect.js");
      throw describeWhat(kind, name);
    }));
  example(describeCmd, "riff describe function square\n  riff describe topic numbers");
  example(
    describeCmd
      .command("function")
      .description("spec, replicas (pid, uptime, handled), lag per partition, rates and the last 20 scaling decisions")
      .argument("<name>", "function name")
      .addOption(output())
      .action(run(async () => async (home: string, name: string, o: { output?: string }) =>
        (await import("./commands/inspect.js")).describeFunction(home, name, o.output))),
    "riff describe function square",
  );
  example(
    describeCmd
      .command("topic")
      .description("partitions, offsets, size on disk, retention, and each group's offset and lag")
      .argument("<name>", "topic name")
      .addOption(output())
      .action(run(async () => async (home: string, name: string, o: { output?: string }) =>
        (await import("./commands/inspect.js")).topics.describe(home, name, o.output))),
    "riff describe topic numbers",
  );
}
