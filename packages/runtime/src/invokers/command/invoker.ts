import { chmod, open, stat } from "node:fs/promises";
import { RiffError } from "@riff/core";
import { baseEnv, type Invoker, type PreparedFunction } from "../../invoker.js";
import type { LaunchSpec } from "../../replica.js";
import { ExecReplica } from "../../replicas/exec-replica.js";
import { LineReplica } from "../../replicas/line-replica.js";

/**
 * What to run: the artifact itself (an executable, or a script with a `#!` line), or, with
 * `--handler`, a command line split on spaces (no shell), whose first word is a path relative to
 * the revision folder or a name on PATH, such as `--handler "tr a-z A-Z"`.
 */
export function commandLaunch(fn: PreparedFunction): LaunchSpec {
  const env = baseEnv(fn);
  env["RIFF_FUNCTION_ARTIFACT"] = fn.artifact;
  const words = fn.handler?.trim().split(/\s+/).filter((w) => w !== "") ?? [];
  const [command, ...args] = words;
  if (command === undefined) return { command: fn.artifact, args: [], env, cwd: fn.dir };
  return { command, args, env, cwd: fn.dir };
}

/**
 * Makes the revision's copy of a script executable when it has a `#!` line (a fresh checkout
 * or an editor may have lost the bit); refuses a file that can be neither run nor interpreted.
 */
async function prepareCommand(fn: PreparedFunction, log: (line: string) => void): Promise<void> {
  if (fn.handler !== undefined && fn.handler.trim() !== "") return;
  const st = await stat(fn.artifact);
  if (st.isDirectory()) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `the artifact ${fn.artifact} is a folder; a command function needs a file to run`, {
      hint: "pass --artifact FILE, or --handler 'CMD ARGS' to name the command",
    });
  }
  if ((st.mode & 0o100) !== 0) return;
  const file = await open(fn.artifact, "r");
  const head = Buffer.alloc(2);
  try {
    await file.read(head, 0, 2, 0);
  } finally {
    await file.close();
  }
  if (head.toString("latin1") !== "#!") {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `${fn.artifact} is not executable and has no #! line`, {
      hint: "start the script with a line such as #!/bin/sh, or chmod +x the program",
    });
  }
  await chmod(fn.artifact, st.mode | 0o100);
  log(`riff: made ${fn.artifact} executable (it has a #! line)`);
}

function commandInvokerOf(
  name: string,
  description: string,
  defaultConcurrency: number,
  Kind: typeof ExecReplica | typeof LineReplica,
): Invoker {
  return {
    name,
    description,
    matchers: ["*.sh", "*"],
    defaultConcurrency,
    prepare: prepareCommand,
    createReplica: (fn, options) => new Kind({ ...options, launch: commandLaunch(fn) }),
  };
}

/** Any program, a process per message: payload on stdin, reply on stdout (Project riff's command invoker). */
export const commandInvoker = commandInvokerOf(
  "command",
  "any executable or #! script, one process per message: stdin -> stdout",
  1,
  ExecReplica,
);

/** The same programs as one long-lived process, one message per line on stdin, one reply per line on stdout. */
export const commandLinesInvoker = commandInvokerOf(
  "command-lines",
  "a long-lived executable or #! script: one message per line on stdin, one reply per line on stdout",
  16,
  LineReplica,
);
