// What every command declaration uses: running a lazily loaded action with the resolved home,
// examples in --help, and the -o flag. Imports nothing but commander, so --help stays fast.
import { Command, Option } from "commander";
import { setTargetFlags, type TargetFlags } from "./target.js";

/** The version of the CLI (and of the daemon it ships with). */
export const VERSION = "0.1.0";

type Action = (home: string, ...args: never[]) => Promise<void>;

/** Runs a command with the resolved home, printing errors the riff way. */
export function run<A extends unknown[]>(load: () => Promise<(home: string, ...args: A) => Promise<void>>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const { lostDaemon, resolveHome } = await import("./client.js");
    const globals = command.optsWithGlobals<{ home?: string } & TargetFlags>();
    const home = resolveHome(globals.home);
    setTargetFlags(globals);
    const fn = await load();
    try {
      await (fn as unknown as Action)(home, ...(args.slice(0, -1) as never[]));
    } catch (err) {
      throw lostDaemon(home, err) ?? err;
    }
  };
}

export function example(cmd: Command, text: string): Command {
  return cmd.addHelpText("after", `\nExample:\n  ${text}`);
}

/** `-o`: text for people, wide for more columns, json and yaml for scripts. */
export const output = () => new Option("-o, --output <format>", "output format").choices(["text", "wide", "json", "yaml"]);
