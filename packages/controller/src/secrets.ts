import { RiffError } from "@riff/core";
import type { ResourceStore } from "./stores.js";

/** A secret: named values that reach only the functions that name it (spec.secrets). */
export interface Secret {
  data: Record<string, string>;
}

export type SecretStore = ResourceStore<Secret>;

/** A secret's name and keys, never its values: what `riff secrets list` shows. */
export interface SecretSummary {
  name: string;
  keys: string[];
}

/**
 * The environment variables the secrets `names` give a function's replicas, each key as it is
 * written. A secret that does not exist fails the function's start, naming it and the fix.
 */
export async function secretEnv(store: SecretStore | undefined, fn: string, names: readonly string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const name of names) {
    const secret = await store?.get(name);
    if (secret === undefined) {
      throw new RiffError("RIFF_SECRET_NOT_FOUND", `function '${fn}' names secret '${name}' (spec.secrets), which does not exist`, {
        hint: `create it with \`riff secrets set ${name} KEY=VALUE\`, then deploy the function again (\`riff apply -f\` its YAML, or \`riff update -n ${fn}\` once it is deployed)`,
      });
    }
    Object.assign(env, secret.value.data);
  }
  return env;
}
