/**
 * The `riff` command line. Only argument parsing and output live here; every command talks to the
 * daemon over its HTTP API. Command modules are imported when a command runs, so `riff --help`
 * loads nothing but commander.
 */
import { Command, Option } from "commander";
import { example, output, run } from "./command-kit.js";
import { addKeyCommands, addSecretCommands } from "./access-commands.js";
import { addDeadLetterCommands } from "./dead-letter-commands.js";
import { addRecordCommands } from "./record-commands.js";
import { printError } from "./output.js";

const program = new Command("riff")
  .description("riff: functions on topics. Write a function, riff runs it on every message.")
  .version("0.1.0", "-v, --version")
  .option("--home <dir>", "riff home: state, topics, token (default $RIFF_HOME or ~/.riff)")
  .showHelpAfterError("(run with --help for usage)")
  .addHelpText(
    "after",
    `
Example:
  riff system start
  echo 'module.exports = (x) => x ** 2' > square.js
  riff create node --name square --input numbers --filepath .
  riff publish --input numbers --data 10 --reply      # prints 100`,
  );

const system = program.command("system").description("start, stop and inspect the riff daemon");
example(
  system
    .command("start")
    .description("start the daemon in the background; prints the gateway URL when ready")
    .option("--port <port>", "port for the gateway and the API (0 picks a free one)", "8080")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--max-body-bytes <size>", "largest message body the gateway takes (e.g. 1MiB)")
    .option("--max-hops <n>", "functions a message may pass through before it is taken for a loop", "16")
    .option("--pool-size <n>", "pre-started Node processes that make cold starts cheap (0 turns the pool off)", "1")
    .option("--headers-timeout <duration>", "longest time a client may take to send a request's headers, against slow clients (default 10s)")
    .option("--request-timeout <duration>", "longest time a client may take to send a whole request (default 2m)")
    .option("--max-connections <n>", "open connections at once to the gateway and admin API; more are closed at once (default 1024)")
    .option("--records-max <n>", "invocation records kept, the newest (see riff invocations); 0 keeps none (default 10000)")
    .option("--records-max-age <duration>", "how long invocation records are kept (default 24h)")
    .option("--otlp-endpoint <url>", "also send the trace spans to this OpenTelemetry collector (OTLP/HTTP), e.g. http://127.0.0.1:4318/v1/traces")
    .addOption(new Option("--sandbox <mode>", "bwrap: functions run in a bubblewrap sandbox, and riff refuses to start without one; none: unsandboxed, on purpose").choices(["bwrap", "none"]).default("bwrap"))
    .addOption(new Option("--limits <how>", "how functions' limits are enforced: auto (cgroups where riff can write them, else rlimits), cgroup (refuse to start without them), rlimit (memory and processes; cpu not enforced) or none").choices(["auto", "cgroup", "rlimit", "none"]).default("auto"))
    .option("--broker <where>", "where topics live: embedded (in the riff home) or a NATS JetStream server, e.g. nats://127.0.0.1:4222 (default: what this home last used, else embedded)")
    .option("--cluster <urls>", "join a riff cluster on these NATS JetStream servers (comma-separated): functions, code and topics are the cluster's, any node answers for any function (default: the cluster this home last joined)")
    .option("--cluster-name <name>", "the cluster's name, the same on every node; several riff clusters may share NATS servers (default: riff)")
    .option("--node-name <name>", "this node's name in the cluster (default: the host name and a hash of the home)")
    .option("--replicas <n>", "copies of each topic and of the cluster's state on the NATS servers: 1 or 3 (default: 3 on a NATS cluster of 3 or more)")
    .option("--nats-creds <file>", "a NATS .creds file (JWT and nkey seed) to connect with")
    .option("--nats-nkey <file>", "a file holding an nkey seed to connect with")
    .option("--nats-tls-ca <file>", "the CA that signed the NATS servers' certificates")
    .option("--nats-tls-cert <file>", "a client certificate for NATS (with --nats-tls-key)")
    .option("--nats-tls-key <file>", "the client certificate's key")
    .action(run(async () => (await import("./commands/system.js")).start)),
  `riff system start --port 8080
  riff system start --cluster nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222 --node-name n1 --host 10.0.0.1`,
);
example(system.command("stop").description("stop the daemon after draining functions (in a cluster, its partitions go to the other nodes first)").action(run(async () => (await import("./commands/system.js")).stop)), "riff system stop");
example(
  system
    .command("status")
    .description("show whether the daemon runs, where, and since when")
    .addOption(output())
    .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/system.js")).status(home, o.output))),
  "riff system status",
);

example(
  program
    .command("dashboard")
    .description("open the web dashboard with a one-time login link (valid once, for 2 minutes)")
    .option("--print-url", "print the link instead of opening a browser")
    .action(run(async () => async (home: string, o: { printUrl?: boolean }) => (await import("./commands/dashboard.js")).dashboard(home, o))),
  `riff dashboard
  riff dashboard --print-url      # on a remote machine: open the printed link through an SSH tunnel`,
);

example(
  program
    .command("nodes")
    .description("list the nodes of the riff cluster this daemon is part of: health, leader, replicas and partitions")
    .addOption(output())
    .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/nodes.js")).nodes(home, o.output))),
  "riff nodes",
);

example(
  program
    .command("create")
    .description("write <name>-function.yaml and <name>-topics.yaml next to the code, and deploy them")
    .argument("<invoker>", "language of the function: node, python3, java, go, command, command-lines, or one from `riff invokers list`")
    .requiredOption("-n, --name <name>", "function name (DNS-1123 label)")
    .requiredOption("-i, --input <topics>", "topic the function reads (several: a,b)")
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
    .option("--force", "overwrite existing YAML files")
    .option("--dry-run", "print the YAML instead of writing and deploying it")
    .action(run(async () => async (home: string, invoker: string, o: import("./commands/resources.js").CreateOptions) =>
      (await import("./commands/resources.js")).create(home, invoker, o))),
  "riff create node --name square --input numbers --filepath .",
);

example(
  program
    .command("apply")
    .description("apply Function and Topic YAML from a file or a folder")
    .requiredOption("-f, --file <path>", "YAML file, or folder of .yaml files")
    .option("--dry-run", "validate only")
    .action(run(async () => async (home: string, o: { file: string; dryRun?: boolean }) =>
      (await import("./commands/resources.js")).apply(home, o.file, o.dryRun === true))),
  "riff apply -f examples/square",
);

example(
  program
    .command("update")
    .description("re-read a function's YAML and code and roll out a new revision")
    .argument("[name]", "function name (default: the one whose NAME-function.yaml is the only one in this folder)")
    .option("-n, --name <name>", "function name")
    .action(run(async () => async (home: string, name: string | undefined, o: { name?: string }) => {
      const { update, functionNamed } = await import("./commands/resources.js");
      await update(home, functionNamed(o.name ?? name, "update"));
    })),
  "riff update -n square",
);

example(
  program
    .command("dev")
    .description("watch a function's folder: roll out every save as `riff update` does, stream its logs, and invoke it with --data")
    .argument("[name]", "function name (default: the one whose NAME-function.yaml is the only one in this folder)")
    .option("-n, --name <name>", "function name")
    .option("-d, --data <payload>", "send this to the function after each successful update, and on Enter; print the reply")
    .option("-p, --content-type <type>", "the payload's content type", "text/plain")
    .action(run(async () => async (home: string, name: string | undefined, o: { name?: string; data?: string; contentType?: string }) => {
      const { functionNamed } = await import("./commands/resources.js");
      const { dev } = await import("./commands/dev.js");
      await dev(home, functionNamed(o.name ?? name, "dev"), o);
    })),
  "riff dev square --data 7",
);

example(
  program
    .command("delete")
    .description("delete a function (with --all, also the topics it names)")
    .argument("[name]", "function name")
    .option("-n, --name <name>", "function name")
    .option("--all", "also delete its input and output topics")
    .action(run(async () => async (home: string, name: string | undefined, o: { name?: string; all?: boolean }) => {
      const { remove } = await import("./commands/resources.js");
      const { badArgument } = await import("./output.js");
      const fn = o.name ?? name;
      if (fn === undefined) throw badArgument("name the function to delete", "riff delete --all square");
      await remove(home, fn, o.all === true);
    })),
  "riff delete --all square",
);

example(
  program
    .command("publish")
    .description("send a message to a topic through the gateway; with --reply, print the function's reply")
    .requiredOption("-i, --input <topic>", "topic to publish to")
    .requiredOption("-d, --data <data>", "message body")
    .option("-r, --reply", "wait for the reply and print it")
    .option("--content-type <type>", "Content-Type of the body", "text/plain")
    .option("-H, --header <name:value>", "extra header (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("-c, --count <n>", "publish this many times", "1")
    .option("--timeout <duration>", "how long to wait for the reply (e.g. 5s)")
    .option("--id <key>", "an Idempotency-Key: the same key within 2 minutes publishes once, and gets the first answer again")
    .action(run(async () => (await import("./commands/publish.js")).publish)),
  "riff publish --input numbers --data 10 --reply\n  riff publish --input orders --data '{\"id\":7}' --id order-7     # safe to retry",
);

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
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "dot", "mermaid", "json"]))
    .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/graph.js")).graph(home, o.output))),
  "riff graph -o mermaid",
);

const describeCmd = program.command("describe").description("show one resource in detail");
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

example(
  program
    .command("logs")
    .description("print a function's logs (stdout and stderr of its replicas)")
    .requiredOption("-n, --name <name>", "function name")
    .option("-f, --follow", "keep printing new lines")
    .option("--tail <n>", "lines of history to print", "200")
    .action(run(async () => async (home: string, o: { name: string; follow?: boolean; tail: string }) =>
      (await import("./commands/inspect.js")).logs(home, o.name, o.follow === true, o.tail))),
  "riff logs -n square -f",
);

const invokersCmd = program.command("invokers").description("list the languages riff runs, and declare new ones in YAML");
example(
  invokersCmd
    .command("apply")
    .description("declare (or change) an invoker from an Invoker YAML file")
    .requiredOption("-f, --file <path>", "Invoker YAML file, or folder of YAML files")
    .option("--dry-run", "validate only")
    .action(run(async () => async (home: string, o: { file: string; dryRun?: boolean }) =>
      (await import("./commands/invokers.js")).invokers.apply(home, o.file, o.dryRun === true))),
  "riff invokers apply -f examples/perl/perl-invoker.yaml",
);
example(
  invokersCmd.command("list").description("list built-in and user-defined invokers").addOption(output())
    .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/invokers.js")).invokers.list(home, o.output))),
  "riff invokers list",
);
example(
  invokersCmd.command("delete").description("delete a user-defined invoker no function uses").argument("<name>", "invoker name")
    .action(run(async () => async (home: string, name: string) => (await import("./commands/invokers.js")).invokers.delete(home, name))),
  "riff invokers delete perl",
);

/** Options of `riff topics create`, as typed. */
interface TopicCreateOptions { partitions?: string; retention?: string; retentionBytes?: string; durability?: string; replicas?: string; rate?: string }

const topics = program.command("topics").description("create, list, describe and delete topics");
example(
  topics
    .command("create")
    .description("create a topic, or change an existing one's partitions (up only), retention, durability or rate")
    .argument("<name>", "topic name")
    .option("-p, --partitions <n>", "number of partitions (default for a new topic: 1)")
    .option("--retention <duration>", "keep messages this long, e.g. 12h or 7d (default for a new topic: 7d)")
    .option("--retention-bytes <size>", "keep at most this much, e.g. 512MiB (default for a new topic: 1GiB)")
    .option("--durability <mode>", "process (survives a crash of riff) or fsync (survives power loss); default process")
    .option("--replicas <n>", "copies kept on the NATS servers: 1 or 3 (default on a NATS cluster of 3 or more: 3; the embedded log keeps 1)")
    .option("--rate <n>", "publishes per second through the gateway, all callers together (429 past it); none lifts it (default: no rate)")
    .action(run(async () => async (home: string, name: string, o: TopicCreateOptions) =>
      (await import("./commands/inspect.js")).topics.create(home, name, o))),
  "riff topics create numbers --partitions 4 --retention 1d",
);
example(
  topics.command("list").description("list topics").addOption(output())
    .option("--all", "also riff's own topics (riff-dead-letters)")
    .action(run(async () => async (home: string, o: { output?: string; all?: boolean }) => (await import("./commands/inspect.js")).topics.list(home, o.output, o.all === true))),
  "riff topics list",
);
example(
  topics.command("describe").description("show partitions, offsets, size and consumer groups").argument("<name>", "topic name").addOption(output())
    .action(run(async () => async (home: string, name: string, o: { output?: string }) =>
      (await import("./commands/inspect.js")).topics.describe(home, name, o.output))),
  "riff topics describe numbers",
);
example(
  topics
    .command("tail")
    .description("print a topic's messages with their partition, offset and headers (the last 10 per partition by default)")
    .argument("<name>", "topic name")
    .option("--from-beginning", "start at the oldest retained message")
    .option("--from-offset <partition:offset>", "start at this offset of one partition")
    .option("--since <duration>", "start at messages written in the last DURATION (e.g. 10m)")
    .option("-n, --count <n>", "most messages per partition")
    .option("-f, --follow", "keep printing new messages")
    .addOption(output())
    .action(run(async () => async (home: string, name: string, o: import("./commands/tail.js").TailOptions) =>
      (await import("./commands/tail.js")).tail(home, name, o))),
  "riff topics tail squares --from-beginning -f",
);
example(
  topics.command("delete").description("delete a topic and its messages").argument("<name>", "topic name")
    .option("--force", "delete it even though functions read or write it (anywhere in the cluster)")
    .action(run(async () => async (home: string, name: string, o: { force?: boolean }) => (await import("./commands/inspect.js")).topics.delete(home, name, o.force === true))),
  "riff topics delete numbers",
);
example(
  topics.command("recover").description("take back a topic whose messages are on NATS but whose record riff lost (RIFF_TOPIC_UNRECORDED)").argument("[name]", "topic name")
    .option("--all", "every topic whose record was lost (riff list names them)")
    .action(run(async () => async (home: string, name: string | undefined, o: { all?: boolean }) => (await import("./commands/inspect.js")).topics.recover(home, name, o.all === true))),
  "riff topics recover numbers\n  riff topics recover --all      # every topic riff list says lost its record",
);

addDeadLetterCommands(program);
addRecordCommands(program);
addSecretCommands(program);
addKeyCommands(program);

// `riff ... | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

program.parseAsync().catch((err: unknown) => {
  process.exitCode = printError(err);
});
