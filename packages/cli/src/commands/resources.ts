import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { assertValidName, API_VERSION, deadLetterTopicOf, RiffError } from "@riff/core";
import { DaemonClient } from "../client.js";
import { badArgument, flagDuration, flagWholeNumber, info } from "../output.js";
import { detectArtifact, FOLDER_MARKERS, invokerMatchers, isBuiltinInvoker } from "./artifacts.js";
import { onKubernetes } from "../target.js";
import { asFlagError, warnImageFlags } from "./create-flags.js";

interface ApplyResult {
  kind: string;
  name: string;
  action: string;
  revision?: number;
  shape?: string;
  /** riff's Invoker documents: the built-in invoker that runs their functions. */
  builtin?: string;
  /** Fields of riff's own YAML with no meaning here, each saying what riff does instead. */
  warnings?: string[];
}

/** Sends YAML documents to the daemon, which validates and applies them. */
async function applyDocuments(client: DaemonClient, documents: { file: string; text: string }[], dryRun: boolean): Promise<ApplyResult[]> {
  return client.callWithProgress<ApplyResult[]>("POST", "apply", { documents, dryRun });
}

async function applyFiles(client: DaemonClient, files: string[], dryRun: boolean): Promise<ApplyResult[]> {
  return applyDocuments(client, files.map((file) => ({ file, text: readFileSync(file, "utf8") })), dryRun);
}

function report(results: ApplyResult[]): void {
  for (const r of results) {
    const rev = r.revision !== undefined && r.action !== "unchanged" ? ` (revision ${r.revision})` : "";
    const builtin = r.builtin === undefined ? "" : `: riff's built-in '${r.builtin}' invoker runs its functions`;
    process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action}${rev}${builtin}\n`);
    for (const w of r.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  }
}

/** `riff apply [-f FILE|DIR]`: this folder by default, as riff's own `riff apply` did. */
export async function applyCommand(home: string, o: { file: string; dryRun?: boolean }): Promise<void> {
  await apply(home, o.file, o.dryRun === true);
}

/** `riff apply -f FILE|DIR|URL`. */
export async function apply(home: string, target: string, dryRun: boolean): Promise<void> {
  if (/^https?:\/\//.test(target)) {
    // riff's READMEs installed invokers straight from a URL: `riff invokers apply -f https://...`.
    const res = await fetch(target).catch((err: unknown) => {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `-f ${target}: cannot fetch it: ${err instanceof Error ? String((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`, {
        hint: "check the URL; for a server with a private CA, give its certificate with NODE_EXTRA_CA_CERTS=ca.pem",
      });
    });
    if (!res.ok) throw badArgument(`-f ${target}: the server answered ${res.status}`);
    if (onKubernetes()) throw badArgument(`-f ${target}: on Kubernetes riff applies files on this machine only`, "download it, then riff apply -f FILE");
    const results = await applyDocuments(new DaemonClient(home), [{ file: target, text: await res.text() }], dryRun);
    if (dryRun) info("dry run: nothing was changed; the file is valid");
    report(results);
    return;
  }
  const path = resolve(target);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) throw badArgument(`-f ${target}: no such file or folder`);
  const files = st.isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw badArgument(`-f ${target}: the folder has no .yaml or .yml file`);
  if (onKubernetes()) {
    await (await import("./kube.js")).kubeApply(files, dryRun);
    if (dryRun) info("dry run: nothing was changed; the files are valid");
    return;
  }
  const results = await applyFiles(new DaemonClient(home), files, dryRun);
  if (dryRun) info("dry run: nothing was changed; the files are valid");
  report(results);
}

/** Options of `riff create` and `riff init`. */
export interface CreateOptions {
  name?: string;
  input?: string;
  output?: string;
  filepath: string;
  handler?: string;
  artifact?: string;
  idleTimeout?: string;
  timeout?: string;
  retries?: string;
  deadLetter?: string;
  maxReplicas?: string;
  minReplicas?: string;
  concurrency?: string;
  ordering?: string;
  allowCycle?: boolean;
  partitions?: string;
  env?: string[];
  secret?: string[];
  memory?: string;
  cpu?: string;
  pids?: string;
  network?: string;
  force?: boolean;
  dryRun?: boolean;
  useraccount?: string;
  invokerVersion?: string;
  push?: boolean;
}

/** `riff create <invoker>`: writes the function and topic YAML next to the code, then applies them. */
export async function create(home: string, invoker: string, o: CreateOptions): Promise<void> {
  await writeFunction(home, invoker, o, true);
}

/** `riff init <invoker>`: writes the function and topic YAML next to the code; `riff apply` deploys them. */
export async function init(home: string, invoker: string, o: CreateOptions): Promise<void> {
  await writeFunction(home, invoker, o, false);
}

/**
 * The name, as riff's CLI took it: `--name`, else the folder's name; the input is `--input`,
 * else the name. `riff create node` in a folder square/ makes function square on topic square.
 */
function nameAndInputs(o: CreateOptions): { name: string; inputs: string[] } {
  const folder = basename(resolve(o.filepath));
  const name = o.name ?? folder;
  if (o.name === undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw badArgument(`the folder's name '${folder}' is not a valid function name, and no --name was given`, `name it: riff create ... --name ${folder.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63) || "square"}`);
  }
  assertValidName(name, "--name");
  return { name, inputs: (o.input ?? name).split(",").map((t) => t.trim()) };
}

async function writeFunction(home: string, invoker: string, o: CreateOptions, deploy: boolean): Promise<void> {
  warnImageFlags(o);
  const { name, inputs } = nameAndInputs(o);
  for (const t of inputs) assertValidName(t, "--input");
  if (o.output !== undefined) assertValidName(o.output, "--output");
  if (o.output !== undefined && inputs.includes(o.output) && o.allowCycle !== true) {
    throw badArgument(
      `--input and --output are both '${o.output}': each result would come back as the function's input, forever (a loop: ${o.output} -> ${name} -> ${o.output})`,
      "give --output another topic, or pass --allow-cycle if the loop is on purpose",
    );
  }
  // Every flag before the folder, the daemon and the code are looked at: a typo is named first.
  const partitions = flagWholeNumber(o.partitions, "--partitions", 1);
  const maxReplicas = flagWholeNumber(o.maxReplicas, "--max-replicas", 1);
  const minReplicas = flagWholeNumber(o.minReplicas, "--min-replicas", 0);
  const concurrency = flagWholeNumber(o.concurrency, "--concurrency", 1);
  const idleTimeoutMs = o.idleTimeout === undefined ? undefined : flagDuration(o.idleTimeout, "--idle-timeout");
  const timeoutMs = o.timeout === undefined ? undefined : flagDuration(o.timeout, "--timeout");
  const pids = flagWholeNumber(o.pids, "--pids", 8, 65536);
  const retries = flagWholeNumber(o.retries, "--retries", 0, 50);
  const env = o.env !== undefined && o.env.length > 0 ? envFlags(o.env) : undefined;
  const dir = resolve(o.filepath);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw badArgument(`--filepath ${o.filepath}: no such folder`);
  // On Kubernetes the invokers are riff's built-in ones: their patterns find the code.
  const kube = onKubernetes();
  // A dry run asks a running daemon too, so that an invoker it does not know is named now.
  const client = kube ? undefined : deploy && o.dryRun !== true ? new DaemonClient(home) : optionalClient(home);
  if (client === undefined && !kube && !isBuiltinInvoker(invoker)) info(`invoker '${invoker}' is not one of riff's built-in ones, and no daemon runs to ask whether it is declared`);
  const matchers = await invokerMatchers(client, invoker);
  // `--artifact package.json` (or go.mod, pom.xml...) means its package: the folder, as in Project riff.
  const given = o.artifact;
  const artifact = given === undefined ? detectArtifact(dir, name, matchers) : FOLDER_MARKERS.includes(basename(given)) ? relative(dir, resolve(dir, given, "..")) || "." : given;
  if (!existsSync(resolve(dir, artifact))) {
    throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `--artifact ${artifact}: not found in ${dir}`, { hint: "give a file or folder in --filepath (or a path relative to it)" });
  }
  const { stringify } = await import("yaml");
  const spec: Record<string, unknown> = { invoker, input: inputs.length === 1 ? inputs[0] : inputs };
  if (o.output !== undefined) spec["output"] = o.output;
  if (o.handler !== undefined) spec["handler"] = o.handler;
  spec["artifact"] = relative(dir, resolve(dir, artifact)) || ".";
  if (maxReplicas !== undefined) spec["maxReplicas"] = maxReplicas;
  if (minReplicas !== undefined) spec["minReplicas"] = minReplicas;
  if (concurrency !== undefined) spec["concurrency"] = concurrency;
  if (o.ordering !== undefined) spec["ordering"] = o.ordering;
  if (o.allowCycle === true) spec["allowCycle"] = true;
  if (idleTimeoutMs !== undefined) spec["idleTimeoutMs"] = idleTimeoutMs;
  if (timeoutMs !== undefined) spec["timeoutMs"] = timeoutMs;
  if (env !== undefined) spec["env"] = env;
  if (o.secret !== undefined && o.secret.length > 0) spec["secrets"] = o.secret;
  const resources: Record<string, unknown> = {};
  if (o.memory !== undefined) resources["memory"] = o.memory;
  if (o.cpu !== undefined) resources["cpu"] = o.cpu;
  if (pids !== undefined) resources["pids"] = pids;
  if (Object.keys(resources).length > 0) spec["resources"] = resources;
  if (o.network !== undefined) spec["network"] = o.network;
  if (retries !== undefined) spec["retries"] = retries;
  if (o.deadLetter !== undefined) spec["deadLetter"] = o.deadLetter;
  const fnYaml = stringify({ apiVersion: API_VERSION, kind: "Function", metadata: { name: name }, spec });
  const topicSpec = partitions === undefined ? {} : { partitions };
  const topicsYaml = [...inputs, ...(o.output === undefined || inputs.includes(o.output) ? [] : [o.output])]
    .map((t) => stringify({ apiVersion: API_VERSION, kind: "Topic", metadata: { name: t }, spec: topicSpec }))
    .join("---\n");
  const fnFile = join(dir, `${name}-function.yaml`);
  const topicsFile = join(dir, `${name}-topics.yaml`);
  // Checked before anything is written: a refused value must not be kept in the files, where
  // the next `riff create` would find it again.
  const { parseResources } = await import("@riff/core/validation");
  try {
    parseResources(fnYaml, fnFile);
    parseResources(topicsYaml, topicsFile);
  } catch (err) {
    throw asFlagError(err, o);
  }
  if (o.dryRun === true) {
    process.stdout.write(`# ${fnFile}\n${fnYaml}---\n# ${topicsFile}\n${topicsYaml}`);
    return;
  }
  // Before anything is written: a second create of a name must not silently replace the function.
  if (deploy && client !== undefined && o.force !== true) await refuseExisting(client, name);
  if (deploy && kube && o.force !== true) await (await import("./kube.js")).kubeRefuseExisting(name);
  const files = [[topicsFile, topicsYaml], [fnFile, fnYaml]] as const;
  // A file kept from an earlier create (one that failed, say) must not silently win over
  // flags that say something else: the user would deploy the old mistake again.
  const differing = o.force === true ? [] : files.filter(([file, text]) => existsSync(file) && readFileSync(file, "utf8") !== text).map(([file]) => basename(file));
  if (differing.length > 0) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `${differing.join(" and ")} ${differing.length === 1 ? "is" : "are"} already in ${dir}, and differ${differing.length === 1 ? "s" : ""} from what these flags write (kept from an earlier riff create)`, {
      hint: `write ${differing.length === 1 ? "it" : "them"} from these flags with --force, or deploy ${differing.length === 1 ? "it" : "them"} as ${differing.length === 1 ? "it is" : "they are"} with riff apply -f ${relative(process.cwd(), dir) || "."}`,
    });
  }
  for (const [file, text] of files) {
    if (existsSync(file) && o.force !== true) info(`kept the existing ${basename(file)} (the same as these flags write)`);
    else {
      writeFileSync(file, text);
      if (!deploy) process.stdout.write(`wrote ${relative(process.cwd(), file) || file}\n`);
    }
  }
  if (deploy && kube) {
    await (await import("./kube.js")).kubeApply([topicsFile, fnFile], false);
    info(`try it: riff publish --input ${inputs[0] ?? ""} --data ${sampleData(name, invoker)} --reply --gateway URL`);
    return;
  }
  if (!deploy || client === undefined) {
    info(`deploy it with: riff apply${resolve(o.filepath) === process.cwd() ? "" : ` -f ${o.filepath}`}`);
    return;
  }
  let results: Awaited<ReturnType<typeof applyFiles>>;
  try {
    results = await applyFiles(client, [topicsFile, fnFile], false);
  } catch (err) {
    info(`the YAML stays in ${relative(process.cwd(), dir) || "."}: once the cause is fixed, riff apply -f ${relative(process.cwd(), dir) || "."}; to write it from other flags, riff create ... --force`);
    throw err;
  }
  report(results);
  // A stream function sends no replies: its outputs go to its output topic.
  const stream = results.some((r) => r.kind === "Function" && r.shape === "stream");
  const sample = sampleData(name, invoker);
  if (!stream) info(`try it: riff publish --input ${inputs[0] ?? ""} --data ${sample} --reply`);
  else if (o.output !== undefined) info(`try it: riff publish --input ${inputs[0] ?? ""} --data ${sample}, and watch riff topics tail ${o.output} -f`);
  else info(`a stream function without --output: what it yields goes nowhere; give it one with --output TOPIC`);
}

/** The daemon if one runs: `riff init` uses its invokers' patterns, but needs no daemon. */
function optionalClient(home: string): DaemonClient | undefined {
  try {
    return new DaemonClient(home);
  } catch {
    return undefined;
  }
}

/** RIFF_FUNCTION_EXISTS when `name` is deployed: `riff update` changes it, `--force` replaces it. */
async function refuseExisting(client: DaemonClient, name: string): Promise<void> {
  try {
    await client.call("GET", `functions/${encodeURIComponent(name)}`);
  } catch (err) {
    if (err instanceof RiffError && err.code === "RIFF_FUNCTION_NOT_FOUND") return;
    throw err;
  }
  throw new RiffError("RIFF_FUNCTION_EXISTS", `function '${name}' already exists; riff create would replace it`, {
    hint: `change it with \`riff update ${name}\` (re-reads its YAML and code), or replace it with the same riff create and --force`,
  });
}

/** A value to try the function with in the hint: a number for names that sound numeric, a word otherwise. */
function sampleData(name: string, invoker: string): string {
  if (/square|num|count|sum|add|mean|double|inc|calc|math|fib|prime/.test(name)) return "10";
  return invoker === "node" && !/upper|lower|echo|hello|greet|word|text|name|rot|reverse/.test(name) ? "10" : "hello";
}

/** `riff update [NAME] [-n NAME] [-f FILE]`. */
export async function updateCommand(home: string, positional: string | undefined, o: { name?: string; file?: string }): Promise<void> {
  if (o.file !== undefined) {
    await apply(home, o.file, false);
    return;
  }
  await update(home, functionNamed(o.name ?? positional, "update"));
}

/** `riff delete NAME [--all]`. */
export async function deleteCommand(home: string, positional: string | undefined, o: { name?: string; all?: boolean; dryRun?: boolean }): Promise<void> {
  const fn = o.name ?? positional;
  if (fn === undefined) throw badArgument("name the function to delete", "riff delete square (with --all, also its topics)");
  if (o.dryRun === true && onKubernetes()) {
    await (await import("./kube.js")).kubeDelete(fn, o.all === true, true);
    return;
  }
  if (o.dryRun === true) {
    // What the daemon would be asked to delete; it keeps a topic another function uses.
    const f = await new DaemonClient(home).call<{ name: string; inputs: string[]; output?: string; deadLetter?: string }>("GET", `functions/${encodeURIComponent(fn)}`);
    const topics = [...f.inputs, ...(f.output === undefined ? [] : [f.output]), deadLetterTopicOf(f)];
    process.stdout.write(`would delete function/${f.name}${o.all === true ? `, and topic ${topics.join(", ")} unless another function uses it` : ""} (dry run: nothing was deleted)\n`);
    return;
  }
  await remove(home, fn, o.all === true);
}

/** `riff logs NAME [-t N] [-f]`; without a name, the function whose YAML is in this folder. */
export async function logsCommand(home: string, positional: string | undefined, o: { name?: string; follow?: boolean; tail: string; container?: string }): Promise<void> {
  if (o.container !== undefined) info(`-c ${o.container}: ignored; riff 0.0.x's containers are one process here, whose output riff logs prints`);
  const here = functionsHere(process.cwd());
  const fn = o.name ?? positional ?? (here.length === 1 ? here[0] : undefined);
  if (fn === undefined) throw badArgument("name the function whose logs to print", "riff logs square -f (see riff list)");
  const { logs } = await import("./inspect.js");
  await logs(home, fn, o.follow === true, o.tail);
}

/** `riff update -n NAME`. */
export async function update(home: string, name: string): Promise<void> {
  report(await new DaemonClient(home).callWithProgress<ApplyResult[]>("POST", `functions/${encodeURIComponent(name)}/update`));
}

/** `name`, or the function whose NAME-function.yaml is the only one in this folder (for `riff <verb>`). */
export function functionNamed(name: string | undefined, verb: string): string {
  const here = functionsHere(process.cwd());
  const fn = name ?? (here.length === 1 ? here[0] : undefined);
  if (fn !== undefined) return fn;
  throw here.length === 0
    ? badArgument(`name the function to ${verb}: this folder has no NAME-function.yaml`, `riff ${verb} -n NAME (see riff list)`)
    : badArgument(`name the function to ${verb}: this folder has ${here.length} (${here.join(", ")})`, `riff ${verb} -n ${here[0] ?? "NAME"}`);
}

/** The functions whose `NAME-function.yaml` (as `riff create` writes it) are in `dir`. */
export function functionsHere(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith("-function.yaml"))
    .map((f) => f.slice(0, -"-function.yaml".length));
}

/** `riff delete [--all] NAME`. */
export async function remove(home: string, name: string, all: boolean): Promise<void> {
  if (onKubernetes()) {
    await (await import("./kube.js")).kubeDelete(name, all);
    return;
  }
  const { deleted, kept = [] } = await new DaemonClient(home).call<{ deleted: string[]; kept?: string[] }>(
    "DELETE",
    `functions/${encodeURIComponent(name)}${all ? "?all=true" : ""}`,
  );
  for (const d of deleted) process.stdout.write(`${d} deleted\n`);
  for (const k of kept) process.stdout.write(`${k}\n`);
}

/** `--env K=V`, repeated: the function's environment, each name checked. */
function envFlags(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (eq === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw badArgument(`--env: '${pair}' is not NAME=VALUE with NAME a variable name (letters, digits, _)`);
    }
    env[key] = pair.slice(eq + 1);
  }
  return env;
}
