import { RiffError } from "@riff/core";
import { info } from "../output.js";

/** riff 0.0.x's image flags of `riff init` and `riff create`: taken, and said to do nothing here. */
export function warnImageFlags(o: { useraccount?: string | undefined; invokerVersion?: string | undefined; push?: boolean | undefined }): void {
  const given = [o.useraccount === undefined ? "" : `-u ${o.useraccount}`, o.invokerVersion === undefined ? "" : `--invoker-version ${o.invokerVersion}`, o.push === true ? "--push" : ""].filter((f) => f !== "");
  if (given.length > 0) info(`warning: ${given.join(", ")}: ignored; riff builds no image, it runs the code in the function's folder`);
}

/** The flags of `riff create` whose values an error quotes. */
export interface FlagValues {
  memory?: string | undefined;
  cpu?: string | undefined;
  network?: string | undefined;
  ordering?: string | undefined;
  handler?: string | undefined;
  deadLetter?: string | undefined;
}

/** The flags `riff create` writes each field from, for errors in the YAML it has not written yet. */
const FIELD_FLAGS: Record<string, string> = {
  "spec.resources.memory": "--memory",
  "spec.resources.cpu": "--cpu",
  "spec.resources.pids": "--pids",
  "spec.env": "--env",
  "spec.network": "--network",
  "spec.ordering": "--ordering",
  "spec.handler": "--handler",
  "spec.deadLetter": "--dead-letter",
  "spec.secrets": "--secret",
  "spec.concurrency": "--concurrency",
};

/** A problem of the YAML `riff create` would write, said of the flag it came from. */
export function asFlagError(err: unknown, o: FlagValues): unknown {
  if (!(err instanceof RiffError) || err.code !== "RIFF_INVALID_RESOURCE") return err;
  const problems = (err.details?.["problems"] as { field?: string; message?: string }[] | undefined) ?? [];
  const first = problems[0];
  const field = first?.field ?? "";
  const flag = Object.entries(FIELD_FLAGS).find(([f]) => field === f || field.startsWith(`${f}.`))?.[1];
  if (flag === undefined || first?.message === undefined) return err;
  const value = { "--memory": o.memory, "--cpu": o.cpu, "--network": o.network, "--ordering": o.ordering, "--handler": o.handler, "--dead-letter": o.deadLetter }[flag];
  return new RiffError("RIFF_INVALID_ARGUMENT", `${flag}${value === undefined ? "" : ` ${value}`}: ${first.message}`, { hint: err.hint ?? `see riff create --help for ${flag}`, details: { field: flag } });
}
