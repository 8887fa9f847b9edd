/**
 * The `riff` command line. Only argument parsing and output live here; every command talks to the
 * daemon over its HTTP API. Command modules are imported when a command runs, so `riff --help`
 * loads nothing but commander.
 */
import { Command, Option } from "commander";
import { example, output, run, VERSION } from "./command-kit.js";
import { addKeyCommands, addSecretCommands } from "./access-commands.js";
import { addDeadLetterCommands } from "./dead-letter-commands.js";
import { addRecordCommands } from "./record-commands.js";
import { addFunctionCommands } from "./function-commands.js";
import { addShellCommands } from "./shell-commands.js";
import { addInspectCommands } from "./inspect-commands.js";
import { printError } from "./output.js";

const program = new Command("riff")
  .description("riff: functions on topics. Write a function, riff runs it on every message.")
  // -V, not -v: riff's own commands used -v for --version of a function (init) and invokers;
  // a global -v swallowed `riff publish ... -v` as "print the version" and published nothing.
  .version(VERSION, "-V, --version")
  .option("--home <dir>", "riff home: state, topics, token (default $RIFF_HOME or ~/.riff)")
  // Kubernetes: create/apply/list/describe/delete act on riff's custom resources; logs and publish go through the gateway.
  .option("--kubeconfig <file>", "act on the Kubernetes cluster of this kubeconfig instead of a local riff (also: RIFF_TARGET=kubernetes with the default kubeconfig)")
  .option("--context <name>", "with Kubernetes: the kubeconfig context to use (implies the Kubernetes target)")
  .option("--namespace <name>", "with Kubernetes: the namespace of the Function and Topic resources (default: the context's, else default)")
  .option("--gateway <url>", "with Kubernetes: riff's gateway, for code uploads, logs and publish (default $RIFF_GATEWAY), e.g. after kubectl -n riff-system port-forward svc/riff-gateway 8080:80")
  .option("--token <token>", "with Kubernetes: the admin token (default $RIFF_TOKEN, else Secret riff-admin key token in riff-system)")
  // Each command's --help lists these too: `riff system start --help` must say --home.
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError("(run with --help for usage)")
  .showSuggestionAfterError(true)
  // commander's own errors (unknown flag or command, missing value) carry a code like riff's.
  .configureOutput({ outputError: (text, write) => write(`${text.trimEnd()}\n  (RIFF_INVALID_ARGUMENT)\n`) })
  .addHelpText(
    "after",
    `
Example:
  riff system start
  echo 'module.exports = (x) => x ** 2' > square.js
  riff create node --name square --input numbers --filepath .
  riff publish --input numbers --data 10 --reply      # prints 100

On Kubernetes (riff installed there):
  kubectl -n riff-system port-forward svc/riff-gateway 8080:80 &
  riff create node --name square --input numbers --filepath . --kubeconfig ~/.kube/config --gateway http://127.0.0.1:8080
  RIFF_TARGET=kubernetes RIFF_GATEWAY=http://127.0.0.1:8080 riff list`,
  );

const system = example(
  program.command("system").description("start, stop and inspect the riff daemon"),
  "riff system start                      # on 127.0.0.1:8080, topics in ~/.riff\n  riff system status\n  riff system stop",
);
example(
  system
    .command("start")
    .description("start the daemon in the background; prints the gateway URL when ready")
    .option("--port <port>", "port for the gateway and the API (0 picks a free one; default: the port this home last used, else 8080)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--max-body-bytes <size>", "largest message body the gateway takes (e.g. 1MiB)")
    .option("--max-hops <n>", "functions a message may pass through before it is taken for a loop", "16")
    .option("--pool-size <n>", "pre-started processes per runtime (node, python3, go, java) that make cold starts cheap (0 turns the pool off)", "1")
    .option("--headers-timeout <duration>", "longest time a client may take to send a request's headers, against slow clients (default 10s)")
    .option("--request-timeout <duration>", "longest time a client may take to send a whole request (default 2m)")
    .option("--max-connections <n>", "open connections at once to the gateway and admin API; more are closed at once (default 1024)")
    .option("--records-max <n>", "invocation records kept, the newest (see riff invocations); 0 keeps none (default 10000)")
    .option("--records-max-age <duration>", "how long invocation records are kept (default 24h)")
    .option("--records-rate <n>", "traces a second whose spans are all recorded; past it new traces are sampled out, their failures still recorded (default 1000; 0: every one)")
    .option("--otlp-endpoint <url>", "also send the trace spans to this OpenTelemetry collector (OTLP/HTTP), e.g. http://127.0.0.1:4318/v1/traces")
    .addOption(new Option("--sandbox <mode>", "bwrap: functions run in a bubblewrap sandbox, and riff refuses to start without one; none: unsandboxed, on purpose").choices(["bwrap", "none"]).default("bwrap"))
    .addOption(new Option("--limits <how>", "how functions' limits are enforced: auto (cgroups where riff can write them, else rlimits), cgroup (refuse to start without them), rlimit (memory and processes; cpu not enforced) or none").choices(["auto", "cgroup", "rlimit", "none"]).default("auto"))
    .option("--metrics <on|off>", "serve Prometheus metrics at /metrics (see docs/metrics.md); off counts nothing (default: on)")
    .option("--no-metrics", "the same as --metrics off")
    .option("--metrics-port <port>", "serve /metrics on a port of its own, on the same host, instead of the daemon's port (0 picks a free one)")
    .option("--metrics-auth <mode>", "none: anyone who reaches the port reads /metrics; token: only with the admin token (Authorization: Bearer). Default: none on loopback, else token")
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
    .option("--runs <what>", "with --cluster: which functions this node runs: all, none (a gateway node: it answers for every function and runs none) or one function's NAME (exactly one replica of it, whatever the cluster's placements say, as a Kubernetes pod does); not kept for the next start (default: all)")
    .addOption(new Option("--autoscaler <on|off>", "off: riff scales nothing; in a cluster the leader places no replicas (Kubernetes sets the replica counts; give every node the same), alone no autoscaler loop runs and a message starts a function's first replica (0 -> 1); not kept for the next start").choices(["on", "off"]).default("on"))
    .option("--token-file <file>", "read the admin token from FILE (readable by its owner only, e.g. a Kubernetes Secret mounted with mode 0400) instead of the home's token file; in a cluster it becomes the cluster's token")
    .action(run(async () => (await import("./commands/system.js")).start)),
  `riff system start --port 8080
  riff system start --host 0.0.0.0 --metrics-port 9464 --metrics-auth token
  riff system start --cluster nats://10.0.0.1:4222,nats://10.0.0.2:4222,nats://10.0.0.3:4222 --node-name n1 --host 10.0.0.1
  riff system start --cluster nats://nats:4222 --runs none --autoscaler off --token-file /var/run/riff/token     # a gateway pod
  riff system start --cluster nats://nats:4222 --runs square --autoscaler off --token-file /var/run/riff/token   # a pod of function square`,
);
example(
  system
    .command("install")
    .description("print the manifests that install riff on Kubernetes (CRDs, controller, gateway, NATS), for kubectl apply --server-side")
    .option("--kubernetes", "install on Kubernetes (the only target: on this machine, riff system start needs no install)")
    .addOption(new Option("-o, --output <format>", "output format: yaml (multi-document) or json (a v1 List)").choices(["yaml", "json"]).default("yaml"))
    .option("--nats <url>", "an existing NATS JetStream to use, e.g. nats://nats.messaging.svc:4222 (default: install a 3-server NATS cluster in riff-system)")
    .option("--image-prefix <prefix>", "where riff's images are pulled from: <prefix>/riff and <prefix>/riff-invoker-<name> (default: riff)")
    // Not --version: the root's -V/--version would take it, wherever it is typed, and print riff's.
    .option("--image-version <tag>", "the images' tag (default: this riff's version)")
    .option("--cluster-name <name>", "the riff cluster's name on NATS (default: riff)")
    // The admin token for the riff-admin Secret is the global --token (default: a random one).
    .option("--dockerfiles <dir>", "instead: write the Dockerfiles of riff's images to this folder")
    .action(run(async () => (await import("./commands/install.js")).install)),
  `riff system install --kubernetes | kubectl apply --server-side -f -
  riff system install --kubernetes --nats nats://nats.messaging.svc:4222 --image-prefix registry.example/riff > riff.yaml
  riff system install --kubernetes --dockerfiles images/      # then build the images as the files say
  riff system install --kubernetes --token "$(openssl rand -hex 32)"   # choose the admin token (the global --token; default: a random one)
  riff system install --kubernetes --token "$(kubectl -n riff-system get secret riff-admin -o jsonpath='{.data.token}' | base64 -d)" | kubectl apply --server-side -f -   # upgrade, keeping the token`,
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
    .summary("list the nodes of the riff cluster this daemon is part of: health, leader, replicas and partitions")
    .description(
      "list the nodes of the riff cluster this daemon is part of: health, leader, replicas and partitions. " +
        "HEALTH is ok, nats-disconnected, left (stopped with riff system stop), gone (no heartbeat: killed, paused or cut off), or unknown (the node asked cannot reach NATS itself, so it cannot tell)",
    )
    .addOption(output())
    .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/nodes.js")).nodes(home, o.output))),
  `riff nodes
  riff nodes -o json      # for scripts: each node's health, partitions and when a node that left was last heard of`,
);

const invokersCmd = example(
  program.command("invokers").description("list the languages riff runs, and declare new ones in YAML"),
  "riff invokers list\n  riff invokers apply -f examples/perl/perl-invoker.yaml",
);
example(
  invokersCmd
    .command("apply")
    .description("declare (or change) an invoker from an Invoker YAML file")
    .requiredOption("-f, --file <path>", "Invoker YAML file (ours or riff's), folder of YAML files, or an https:// URL")
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

const topics = example(
  program.command("topics").description("create, list, describe and delete topics"),
  "riff topics create numbers --partitions 4\n  riff topics tail numbers -f\n  riff topics describe numbers",
);
example(
  topics
    .command("create")
    .description("create a topic, or change an existing one's partitions (up only), retention, durability or rate")
    .argument("<name>", "topic name")
    .option("-p, --partitions <n>", "number of partitions (default for a new topic: 1)")
    .option("--retention <duration>", "keep messages this long, e.g. 12h or 7d (default for a new topic: 7d)")
    .option("--retention-bytes <size>", "keep at most this much, e.g. 512MiB (default for a new topic: 1GiB)")
    .addOption(new Option("--durability <mode>", "process (survives a crash of riff) or fsync (survives power loss); default process").choices(["process", "fsync"]))
    .addOption(new Option("--replicas <n>", "copies kept on the NATS servers: 1 or 3 (default on a NATS cluster of 3 or more: 3; the embedded log keeps 1)").choices(["1", "3"]))
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

addFunctionCommands(program);
addInspectCommands(program);
addShellCommands(program);
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
