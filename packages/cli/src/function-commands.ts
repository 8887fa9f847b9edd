// `riff init`, `create`, `apply`, `update`, `delete`, `publish` and `logs`: the declarations
// only, with riff's own spellings (riff 0.0.x's README) next to ours; the actions load when a
// command runs.
import { Option, type Command } from "commander";
import { example, output, run } from "./command-kit.js";

type Resources = typeof import("./commands/resources.js");

/** The flags `riff init` and `riff create` share: what the function is and how it runs. */
function functionFlags(cmd: Command): Command {
  return cmd
    .argument("<invoker>", "language of the function: node, python3, java, go, command, command-lines, or one from `riff invokers list`")
    .option("-n, --name <name>", "function name (DNS-1123 label; default: the folder's name)")
    .option("-i, --input <topics>", "topic the function reads, several as a,b (default: the function's name)")
    .option("-o, --output <topic>", "topic the function's results go to")
    .option("--allow-cycle", "permit a loop in the topic graph through this function")
    .option("-f, --filepath <dir>", "folder holding the code; the YAML is written there", ".")
    .option("--handler <name>", "function to call inside the artifact")
    .option("-a, --artifact <path>", "the code, relative to --filepath (found by the invoker's patterns otherwise)")
    .option("--idle-timeout <duration>", "stop replicas after this long without messages (e.g. 10s)")
    .option("--timeout <duration>", "longest time for one message before it fails and its replica is stopped (default 60s)")
    .option("--retries <n>", "runs again, with backoff, of a message the function failed on, before it is dead-lettered (default 2)")
    .option("--dead-letter <topic>", "where its failed messages go (default <name>-dead-letters)")
    .option("--max-replicas <n>", "most replicas to run (at most the input's partitions)")
    .option("--min-replicas <n>", "replicas kept even when idle (default 0: scale to zero)")
    .option("--concurrency <n>", "messages in flight per replica")
    .addOption(new Option("--ordering <ordering>", "keep each partition's order, or run its messages in parallel").choices(["partition", "none"]))
    .option("--partitions <n>", "partitions of the topics it creates")
    .option("--secret <name>", "a secret whose keys become environment variables (repeat for more; see riff secrets)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--env <NAME=VALUE>", "an environment variable of the function (repeat for more; stored in plain text)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--memory <size>", "memory per replica, e.g. 256Mi or 1Gi (default 512Mi); past it the replica is killed")
    .option("--cpu <cores>", "CPU per replica, e.g. 0.5 or 500m (default: unlimited)")
    .option("--pids <n>", "processes and threads per replica (default 256)")
    .addOption(new Option("--network <mode>", "host: the machine's network (default); none: no network at all").choices(["host", "none"]))
    .option("--dry-run", "print the YAML instead of writing (and deploying) it")
    // riff 0.0.x's image flags: taken, with a warning that riff builds no image.
    .addOption(new Option("-u, --useraccount <name>", "riff 0.0.x: the image's account (ignored)").hideHelp())
    .addOption(new Option("--invoker-version <version>", "riff 0.0.x: the invoker image's version (ignored)").hideHelp())
    .addOption(new Option("--push", "riff 0.0.x: push the image (ignored)").hideHelp());
}

/** Adds the commands that make, change and feed functions to `program`. */
export function addFunctionCommands(program: Command): void {
  const res = <K extends keyof Resources>(k: K) => run(async () => (await import("./commands/resources.js"))[k] as unknown as (home: string, ...args: unknown[]) => Promise<void>);
  example(
    functionFlags(program.command("init").description("write <name>-function.yaml and <name>-topics.yaml next to the code; deploys nothing (riff apply does)"))
      .option("--force", "overwrite existing YAML files")
      .action(res("init")),
    "riff init node                      # in a folder square/ holding square.js: function square, input square\n  riff apply",
  );
  example(
    functionFlags(program.command("create").description("write <name>-function.yaml and <name>-topics.yaml next to the code, and deploy them"))
      .option("--force", "replace a function of that name that is already deployed, and overwrite existing YAML files")
      .action(res("create")),
    "riff create node --name square --input numbers --filepath .\n  riff create node                    # in a folder square/: --name square --input square",
  );
  example(
    program
      .command("apply")
      .description("apply Function, Topic and Invoker YAML (ours or riff's own) from a file or a folder; every file is checked before anything changes")
      .option("-f, --file <path>", "YAML file, or folder of .yaml files", ".")
      .option("--dry-run", "validate only")
      .action(res("applyCommand")),
    "riff apply                          # the YAML in this folder\n  riff apply -f examples/square",
  );
  example(
    program
      .command("update")
      .description("re-read a function's YAML and code and roll out a new revision")
      .argument("[name]", "function name (default: the one whose NAME-function.yaml is the only one in this folder)")
      .option("-n, --name <name>", "function name")
      .option("-f, --file <path>", "apply this YAML file or folder instead (riff's spelling)")
      .action(res("updateCommand")),
    "riff update -n square\n  riff update -f square-function.yaml",
  );
  example(
    program
      .command("dev")
      .description("watch a function's folder: roll out every save as `riff update` does, stream its logs, and invoke it with --data")
      .argument("[name]", "function name (default: the one whose NAME-function.yaml is the only one in this folder)")
      .option("-n, --name <name>", "function name")
      .option("-d, --data <payload>", "send this to the function after each successful update, and on Enter; print the reply")
      .option("-p, --content-type <type>", "the payload's content type", "text/plain")
      .action(
        run(async () => async (home: string, name: string | undefined, o: { name?: string; data?: string; contentType?: string }) => {
          const { functionNamed } = await import("./commands/resources.js");
          const { dev } = await import("./commands/dev.js");
          await dev(home, functionNamed(o.name ?? name, "dev"), o);
        }),
      ),
    "riff dev square --data 7",
  );
  example(
    program
      .command("delete")
      .description("delete a function (with --all, also the topics it names)")
      .argument("[name]", "function name")
      .option("-n, --name <name>", "function name")
      .option("--all", "also delete its input and output topics")
      .option("--dry-run", "say what would be deleted, and delete nothing")
      .action(res("deleteCommand")),
    "riff delete square\n  riff delete --all square",
  );
  example(
    program
      .command("publish")
      .description("send a message to a topic through the gateway; with --reply, print the function's reply")
      .option("-i, --input <topic>", "topic to publish to (default: the input of the function whose YAML is in this folder, else the folder's name)")
      .requiredOption("-d, --data <data>", "message body")
      .option("-r, --reply", "wait for the reply and print it")
      .option("-p, --content-type <type>", "Content-Type of the body", "text/plain")
      .option("-H, --header <name:value>", "extra header (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option("-c, --count <n>", "publish this many times", "1")
      .option("--pause <seconds>", "wait this long between two of --count's messages (riff 0.0.x's -p)")
      .option("--timeout <duration>", "how long to wait for the reply (e.g. 5s)")
      .option("--id <key>", "an Idempotency-Key: the same key within 2 minutes publishes once, and gets the first answer again")
      .action(run(async () => (await import("./commands/publish.js")).publish)),
    "riff publish --input numbers --data 10 --reply\n  riff publish -i numbers -d 10 -r\n  riff publish --input orders --data '{\"id\":7}' -p application/json --id order-7     # safe to retry",
  );
  example(
    program
      .command("logs")
      .description("print a function's logs (stdout and stderr of its replicas)")
      .argument("[name]", "function name")
      .option("-n, --name <name>", "function name")
      .option("-f, --follow", "keep printing new lines")
      .option("-t, --tail <n>", "lines of history to print", "200")
      .addOption(new Option("-c, --container <name>", "riff 0.0.x's sidecar or main container: ignored, a replica's output is the function's").hideHelp())
      .action(res("logsCommand")),
    "riff logs square -f\n  riff logs square -t 50",
  );
  const rev = <K extends "revisions" | "rollback">(k: K) => run(async () => (await import("./commands/revisions.js"))[k] as unknown as (home: string, ...args: unknown[]) => Promise<void>);
  example(
    program.command("revisions").description("list the revisions function NAME keeps (the last 10 before the running one)").argument("<name>", "function name").addOption(output()).action(rev("revisions")),
    "riff revisions square",
  );
  example(
    program
      .command("rollback")
      .description("go back to an earlier revision's code and settings, with the same safe rollout as update (it becomes a new revision)")
      .argument("<name>", "function name")
      .option("--to <revision>", "the revision to go back to (default: the one before the running one)")
      .action(rev("rollback")),
    "riff rollback square\n  riff rollback square --to 1",
  );
}
