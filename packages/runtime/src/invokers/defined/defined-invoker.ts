import { FramedReplica } from "../../framed-replica.js";
import { baseEnv, type Invoker, type PreparedFunction } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { ExecReplica } from "../../replicas/exec-replica.js";
import { HttpReplica } from "../../replicas/http-replica.js";
import { LineReplica } from "../../replicas/line-replica.js";

/**
 * How a user-defined invoker talks to its processes:
 * - `frames`: riff's frames (docs/protocol.md) on stdin/stdout;
 * - `http`: an HTTP server on the port riff gives in `PORT`, one POST per message;
 * - `lines`: one long-lived process, one message per line in, one reply per line out;
 * - `exec`: a process per message, payload on stdin, reply on stdout.
 */
export type DefinedProtocol = "frames" | "http" | "lines" | "exec";

/** An `Invoker` resource's spec, resolved: a language declared in YAML alone. */
export interface InvokerDefinition {
  name: string;
  description: string;
  /** The command that starts a replica; words may hold `{{artifact}}`, `{{handler}}`, `{{dir}}`, `{{name}}`. */
  command: string[];
  protocol: DefinedProtocol;
  /** Globs that find the artifact in a folder, in priority order. */
  matchers: string[];
  /** The handler when the function names none. */
  defaultHandler: string | undefined;
  /** Messages one replica holds at once. */
  concurrency: number;
}

/** Fills the command template for one function. */
export function definedLaunch(def: InvokerDefinition, fn: PreparedFunction): LaunchSpec {
  const values: Record<string, string> = {
    artifact: fn.artifact,
    handler: fn.handler ?? def.defaultHandler ?? "",
    dir: fn.dir,
    name: fn.name,
  };
  const fill = (word: string) => word.replace(/\{\{\s*(artifact|handler|dir|name)\s*\}\}/g, (_, k: string) => values[k] ?? "");
  const [command = "", ...args] = def.command.map(fill);
  const env = baseEnv(fn);
  env["RIFF_FUNCTION_ARTIFACT"] = fn.artifact;
  if (values["handler"] !== "") env["RIFF_FUNCTION_HANDLER"] = values["handler"] as string;
  return { command, args, env, cwd: fn.dir };
}

/** An invoker made from a definition: every protocol maps onto a replica kind riff already has. */
export function createDefinedInvoker(def: InvokerDefinition): Invoker {
  return {
    name: def.name,
    description: def.description,
    matchers: def.matchers,
    defaultConcurrency: def.concurrency,
    createReplica(fn, options) {
      const launch = definedLaunch(def, fn);
      switch (def.protocol) {
        case "frames":
          return new FramedReplica({ ...options, launch, transport: "stdio" });
        case "http":
          return new HttpReplica({ ...options, launch });
        case "lines":
          return new LineReplica({ ...options, launch });
        case "exec":
          return new ExecReplica({ ...options, launch });
      }
    },
  };
}
