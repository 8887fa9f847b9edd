import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative, resolve } from "node:path";
import { assertValidName, API_VERSION, unknownInvoker } from "@riff/core";
import { DaemonClient } from "../client.js";
import { badArgument, flagDuration, flagWholeNumber, info } from "../output.js";

interface ApplyResult {
  kind: string;
  name: string;
  action: string;
  revision?: number;
  shape?: string;
}

/** Sends YAML files to the daemon, which validates and applies them. */
async function applyFiles(client: DaemonClient, files: string[], dryRun: boolean): Promise<ApplyResult[]> {
  const documents = files.map((file) => ({ file, text: readFileSync(file, "utf8") }));
  return client.callWithProgress<ApplyResult[]>("POST", "apply", { documents, dryRun });
}

function report(results: ApplyResult[]): void {
  for (const r of results) {
    const rev = r.revision !== undefined && r.action !== "unchanged" ? ` (revision ${r.revision})` : "";
    process.stdout.write(`${r.kind.toLowerCase()}/${r.name} ${r.action}${rev}\n`);
  }
}

/** `riff apply -f FILE|DIR`. */
export async function apply(home: string, target: string, dryRun: boolean): Promise<void> {
  const path = resolve(target);
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) throw badArgument(`-f ${target}: no such file or folder`);
  const files = st.isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw badArgument(`-f ${target}: the folder has no .yaml or .yml file`);
  const results = await applyFiles(new DaemonClient(home), files, dryRun);
  if (dryRun) info("dry run: nothing was changed; the files are valid");
  report(results);
}

/** Options of `riff create`. */
export interface CreateOptions {
  name: string;
  input: string;
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
}

/** `riff create <invoker>`: writes the function and topic YAML next to the code, then applies them. */
export async function create(home: string, invoker: string, o: CreateOptions): Promise<void> {
  assertValidName(o.name, "--name");
  const inputs = o.input.split(",").map((t) => t.trim());
  for (const t of inputs) assertValidName(t, "--input");
  if (o.output !== undefined) assertValidName(o.output, "--output");
  if (o.output !== undefined && inputs.includes(o.output) && o.allowCycle !== true) {
    throw badArgument(
      `--input and --output are both '${o.output}': each result would come back as the function's input, forever (a loop: ${o.output} -> ${o.name} -> ${o.output})`,
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
  const client = o.dryRun === true ? undefined : new DaemonClient(home);
  const matchers = await invokerMatchers(client, invoker);
  // `--artifact package.json` (or go.mod, pom.xml...) means its package: the folder, as in Project riff.
  const given = o.artifact;
  const artifact =
    given === undefined ? detectArtifact(dir, o.name, matchers) : FOLDER_MARKERS.includes(basename(given)) ? relative(dir, resolve(dir, given, "..")) || "." : given;
  if (!existsSync(resolve(dir, artifact))) throw badArgument(`--artifact ${artifact}: not found in ${dir}`);
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
  const fnYaml = stringify({ apiVersion: API_VERSION, kind: "Function", metadata: { name: o.name }, spec });
  const topicSpec = partitions === undefined ? {} : { partitions };
  const topicsYaml = [...inputs, ...(o.output === undefined || inputs.includes(o.output) ? [] : [o.output])]
    .map((t) => stringify({ apiVersion: API_VERSION, kind: "Topic", metadata: { name: t }, spec: topicSpec }))
    .join("---\n");
  const fnFile = join(dir, `${o.name}-function.yaml`);
  const topicsFile = join(dir, `${o.name}-topics.yaml`);
  // Checked before anything is written: a refused value must not be kept in the files, where
  // the next `riff create` would find it again.
  const { parseResources } = await import("@riff/core/validation");
  parseResources(fnYaml, fnFile);
  parseResources(topicsYaml, topicsFile);
  if (o.dryRun === true) {
    process.stdout.write(`# ${fnFile}\n${fnYaml}---\n# ${topicsFile}\n${topicsYaml}`);
    return;
  }
  for (const [file, text] of [[topicsFile, topicsYaml], [fnFile, fnYaml]] as const) {
    if (existsSync(file) && o.force !== true) info(`kept the existing ${basename(file)} (--force overwrites it)`);
    else writeFileSync(file, text);
  }
  const results = await applyFiles(client as DaemonClient, [topicsFile, fnFile], false);
  report(results);
  // A stream function sends no replies: its outputs go to its output topic.
  const stream = results.some((r) => r.kind === "Function" && r.shape === "stream");
  if (!stream) info(`try it: riff publish --input ${inputs[0] ?? ""} --data 10 --reply`);
  else if (o.output !== undefined) info(`try it: riff publish --input ${inputs[0] ?? ""} --data 10, and watch riff topics tail ${o.output} -f`);
  else info(`a stream function without --output: what it yields goes nowhere; give it one with --output TOPIC`);
}

async function invokerMatchers(client: DaemonClient | undefined, invoker: string): Promise<string[]> {
  if (client === undefined) return ["*"];
  const { invokers } = await client.call<{ invokers: { name: string; matchers: string[] }[] }>("GET", "invokers");
  const found = invokers.find((i) => i.name === invoker);
  if (found === undefined) {
    throw unknownInvoker(invoker, invokers.map((i) => i.name));
  }
  return found.matchers;
}

/** Files that make their folder the artifact when an invoker's matchers name them: a package. */
const FOLDER_MARKERS = ["package.json", "go.mod", "requirements.txt", "pom.xml", "build.gradle", "build.gradle.kts"];

/**
 * Finds the artifact by the invoker's matchers. A package.json (for node) or a go.mod (for go)
 * makes the folder the artifact: the invoker then picks what to run in it. Else a file named
 * after the function wins, then the only file of the first matcher that has one.
 */
function detectArtifact(dir: string, name: string, matchers: string[]): string {
  const files = readdirSync(dir).filter((f) => !/\.ya?ml$/.test(f) && statSync(join(dir, f)).isFile());
  if (FOLDER_MARKERS.some((m) => matchers.includes(m) && files.includes(m))) return ".";
  const matching = (m: string) => files.filter((f) => (m.startsWith("*.") ? extname(f) === m.slice(1) : f === m || m === "*"));
  const patterns = matchers.filter((m) => !FOLDER_MARKERS.includes(m));
  const named = patterns.flatMap(matching).find((f) => basename(f, extname(f)) === name);
  if (named !== undefined) return withDependencies(dir, named);
  for (const m of patterns) {
    const hits = matching(m);
    if (hits.length === 1) return withDependencies(dir, hits[0] as string);
    if (hits.length > 1) {
      const main = matchers.includes("package.json") ? ', or add a package.json whose "main" names it' : "";
      const rename = m.startsWith("*.") ? `name it ${name}${m.slice(1)}` : "name it after the function";
      throw badArgument(`several files in ${dir} could be the function '${name}': ${hits.join(", ")}`, `pick one with --artifact FILE, or ${rename}${main}`);
    }
  }
  // Sources in package folders (Java's `functions/Upper.java`, `src/main/java/...`): the
  // folder is the artifact, and the invoker finds its way in it.
  const extensions = patterns.filter((m) => m.startsWith("*.")).map((m) => m.slice(1));
  if (extensions.length > 0 && hasNested(dir, extensions, 4)) return ".";
  throw badArgument(`no file in ${dir} matches ${matchers.join(", ")}`, "write the function there, or pass --artifact FILE");
}

/** Folders a jar's dependency jars sit in beside it (`lib/`, Maven's `dependency/`). */
const DEPENDENCY_FOLDERS = ["lib", "libs", "dependency"];

/** A jar with its dependency jars in a folder beside it deploys the folder, so they are copied too; else the file. */
function withDependencies(dir: string, file: string): string {
  if (extname(file) !== ".jar") return file;
  const deps = DEPENDENCY_FOLDERS.some((d) => existsSync(join(dir, d)) && readdirSync(join(dir, d)).some((f) => extname(f) === ".jar"));
  return deps ? "." : file;
}

/** Whether a subfolder of `dir` (down to `depth` levels, outside .git and node_modules) holds a file with one of `extensions`. */
function hasNested(dir: string, extensions: string[], depth: number): boolean {
  if (depth === 0) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) => {
    if (!e.isDirectory() || e.name === ".git" || e.name === "node_modules") return false;
    const sub = join(dir, e.name);
    return readdirSync(sub).some((f) => extensions.includes(extname(f)) && statSync(join(sub, f)).isFile()) || hasNested(sub, extensions, depth - 1);
  });
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
