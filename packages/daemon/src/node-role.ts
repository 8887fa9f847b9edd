import { isValidName, RiffError } from "@riff/core";
import type { Placing } from "./controller-parts.js";

/**
 * Which functions a node runs: every one (the default), none (a gateway node: it answers for
 * every function but runs none, as riff's gateway pods in Kubernetes), or exactly one replica
 * of one function (a function's pod in Kubernetes, where the Deployment's replica count is the
 * function's scale).
 */
export type RunsChoice = { kind: "all" } | { kind: "none" } | { kind: "one"; name: string };

/** @default "all": a node runs whatever the cluster places on it. */
export const DEFAULT_RUNS = "all";

/** `--runs all|none|NAME`, checked; anything but `all` needs a cluster. */
export function resolveRuns(value: string | undefined, clustered: boolean): RunsChoice {
  const given = value ?? DEFAULT_RUNS;
  if (given === "all") return { kind: "all" };
  if (!clustered) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--runs ${given}: only a node of a cluster can leave functions to other nodes`, {
      hint: "add --cluster nats://HOST:4222 (see docs/cluster.md), or leave --runs out: one riff runs every function",
    });
  }
  if (given === "none") return { kind: "none" };
  if (isValidName(given)) return { kind: "one", name: given };
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--runs ${given}: must be all, none or a function's name`, {
    hint: "e.g. --runs none (a gateway node) or --runs square (one replica of function square)",
  });
}

/** `--autoscaler on|off`, as a boolean. */
export function resolveAutoscaler(value: string | undefined): boolean {
  if (value === undefined || value === "on") return true;
  if (value === "off") return false;
  throw new RiffError("RIFF_INVALID_ARGUMENT", `--autoscaler ${value}: must be on or off`, {
    hint: "off leaves replica counts to someone else (Kubernetes); on (the default) lets riff scale",
  });
}

/** How `riff system status` and `riff nodes` say it: `all`, `none` or the function's name. */
export function runsLabel(runs: RunsChoice): string {
  return runs.kind === "one" ? runs.name : runs.kind;
}

/** One replica of the node's one function, whatever the cluster's placements say; a constant generation, so it is applied once per runner. */
const ONE_REPLICA = { membership: { weight: 1 }, replicas: { count: 1, generation: 1 } } as const;

/** The mode's placing, narrowed to what the node runs. */
export function placingFor(runs: RunsChoice, placing: Placing): Placing {
  switch (runs.kind) {
    case "all":
      return placing;
    case "none":
      return { placement: () => ({ membership: undefined }), claim: () => Promise.resolve(undefined), runsHere: () => false };
    case "one": {
      const mine = (name: string) => name === runs.name;
      return {
        placement: (name) => (mine(name) ? ONE_REPLICA : { membership: undefined }),
        // The cluster's placements are not this node's business: nothing is written for it.
        claim: (name) => Promise.resolve(mine(name) ? { weight: 1 } : undefined),
        runsHere: mine,
      };
    }
  }
}
