// `riff secrets ...` and `riff keys ...`: the declarations only; the actions load when a command runs.
import type { Command } from "commander";
import { example, output, run } from "./command-kit.js";

/** Adds `riff secrets set|list|delete` to `program`. */
export function addSecretCommands(program: Command): void {
  const secrets = example(
    program.command("secrets").description("values that reach only the functions naming them (spec.secrets), as environment variables"),
    "riff secrets set db-creds PGUSER=app PGPASSWORD=s3cret\n  riff secrets list",
  );
  example(
    secrets.command("set").description("create or replace a secret (stored with mode 0600; never shown, logged or written in YAML)")
      .argument("<name>", "secret name").argument("<pairs...>", "KEY=VALUE, one or more")
      .action(run(async () => async (home: string, name: string, pairs: string[]) => (await import("./commands/secrets.js")).set(home, name, pairs))),
    "riff secrets set db-creds PGUSER=app PGPASSWORD=s3cret\n  riff create node --name report --input jobs --secret db-creds --filepath .",
  );
  example(
    secrets.command("list").description("list secrets: names and keys, never values").addOption(output())
      .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/secrets.js")).list(home, o.output))),
    "riff secrets list",
  );
  example(
    secrets.command("delete").description("delete a secret (functions naming it then fail to start)").argument("<name>", "secret name")
      .action(run(async () => async (home: string, name: string) => (await import("./commands/secrets.js")).remove(home, name))),
    "riff secrets delete db-creds",
  );
}

/** Adds `riff keys create|list|delete` to `program`. */
export function addKeyCommands(program: Command): void {
  const keys = example(
    program.command("keys").description("API keys of the gateway, scoped to topics, with a rate; from the first key on, publishing needs one"),
    "riff keys create --topic orders --rate 50\n  riff keys list",
  );
  example(
    keys.command("create").description("create a key (printed once: riff keeps only its hash)")
      .option("-t, --topic <topic>", "a topic it may publish to (repeat for more)", (v: string, prev: string[] = []) => [...prev, v])
      .option("--rate <n>", "requests per second per topic, past which the gateway answers 429 with Retry-After")
      .action(run(async () => async (home: string, o: { topic?: string[]; rate?: string }) => (await import("./commands/keys.js")).create(home, { topic: o.topic ?? [], ...(o.rate === undefined ? {} : { rate: o.rate }) }))),
    "riff keys create --topic orders --rate 50\n  curl -H \"Authorization: Bearer $KEY\" -H \"Content-Type: text/plain\" --data-binary 7 http://127.0.0.1:8080/messages/orders",
  );
  example(
    keys.command("list").description("list keys: ids, topics and rates, never the keys").addOption(output())
      .action(run(async () => async (home: string, o: { output?: string }) => (await import("./commands/keys.js")).list(home, o.output))),
    "riff keys list",
  );
  example(
    keys.command("delete").description("delete a key (with none left, the gateway is open again)").argument("<id>", "key id")
      .action(run(async () => async (home: string, id: string) => (await import("./commands/keys.js")).remove(home, id))),
    "riff keys delete 3f9a2c1d",
  );
}
