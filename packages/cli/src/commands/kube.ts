// The commands' Kubernetes side (`--kubeconfig`, `--context`, RIFF_TARGET=kubernetes): riff's
// Function and Topic custom resources instead of the daemon's API.
import { RiffError } from "@riff/core";
import { printData, printTable } from "../output.js";
import { kubeTarget } from "../target.js";

/** `riff apply` and `riff create` on Kubernetes: code uploaded through the gateway, resources server-side applied. */
export async function kubeApply(files: string[], dryRun: boolean): Promise<{ kind: string; name: string; action: string }[]> {
  const { applyToKubernetes } = await import("@riff/kubernetes/cli-target");
  const target = await kubeTarget();
  const results = await applyToKubernetes(target, files, dryRun);
  for (const r of results) {
    for (const w of r.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action} in namespace ${target.namespace}${r.digest === undefined ? "" : ` (code ${r.digest})`}\n`);
  }
  return results;
}

/** RIFF_FUNCTION_EXISTS when a Function of that name is there: `riff create` must not replace it silently. */
export async function kubeRefuseExisting(name: string): Promise<void> {
  const target = await kubeTarget();
  if ((await target.get("Function", name)) === undefined) return;
  throw new RiffError("RIFF_FUNCTION_EXISTS", `function '${name}' already exists in namespace ${target.namespace}; riff create would replace it`, {
    hint: `change it with riff apply -f ${name}-function.yaml, or replace it with the same riff create and --force`,
  });
}

/** `riff list` on Kubernetes: the Function resources with the controller's status. */
export async function kubeList(output: string | undefined): Promise<void> {
  const { functionRow } = await import("@riff/kubernetes/cli-target");
  const target = await kubeTarget();
  const rows = (await target.list("Function")).map(functionRow);
  if (await printData(output, rows)) return;
  if (rows.length === 0) {
    process.stdout.write(`No functions in namespace ${target.namespace}. Create one with: riff create node --name square --input numbers --filepath . --kubeconfig ...\n`);
    return;
  }
  printTable(
    ["NAME", "INPUT", "OUTPUT", "READY", "REPLICAS", "LAG"],
    rows.map((r) => [r.name, r.inputs.join(","), r.output ?? "-", r.ready, String(r.replicas), r.lag === undefined ? "-" : String(r.lag)]),
  );
  for (const r of rows.filter((x) => x.reason !== undefined)) process.stdout.write(`\n${r.name}: ${r.reason ?? ""}\n`);
}

/** `riff describe function NAME` on Kubernetes: spec, status and conditions. */
export async function kubeDescribe(name: string, output: string | undefined): Promise<void> {
  const { describeLines } = await import("@riff/kubernetes/cli-target");
  const target = await kubeTarget();
  const cr = await target.get("Function", name);
  if (cr === undefined) {
    throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `no function '${name}' in namespace ${target.namespace}`, { hint: "see what there is: riff list --kubeconfig ..." });
  }
  if (await printData(output, cr)) return;
  process.stdout.write(`${describeLines(cr).join("\n")}\n`);
}

/** `riff delete NAME [--all]` on Kubernetes; with --all also its Topic resources that no other Function names. */
export async function kubeDelete(name: string, all: boolean, dryRun = false): Promise<void> {
  const { functionRow } = await import("@riff/kubernetes/cli-target");
  const target = await kubeTarget();
  const cr = await target.get("Function", name);
  if (cr === undefined) throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `no function '${name}' in namespace ${target.namespace}`, { hint: "see what there is: riff list --kubeconfig ..." });
  if (dryRun) {
    const mine = functionRow(cr);
    const topics = [...mine.inputs, ...(mine.output === undefined ? [] : [mine.output])];
    process.stdout.write(`would delete function/${name} in namespace ${target.namespace}${all ? `, and topic ${topics.join(", ")} unless another function uses it` : ""} (dry run: nothing was deleted)\n`);
    return;
  }
  await target.delete("Function", name);
  process.stdout.write(`function/${name} deleted\n`);
  if (!all) return;
  const mine = functionRow(cr);
  const others = (await target.list("Function")).map(functionRow).filter((r) => r.name !== name);
  for (const topic of [...mine.inputs, ...(mine.output === undefined ? [] : [mine.output])]) {
    const users = others.filter((r) => r.inputs.includes(topic) || r.output === topic).map((r) => r.name);
    if (users.length > 0) {
      process.stdout.write(`kept topic/${topic}: function ${users.join(", ")} uses it\n`);
      continue;
    }
    if ((await target.get("Topic", topic)) === undefined) continue;
    await target.delete("Topic", topic);
    process.stdout.write(`topic/${topic} deleted\n`);
  }
}
