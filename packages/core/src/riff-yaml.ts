// Project riff's own YAML (projectriff.io/v1 and v1alpha1, as riff 0.0.x wrote it) turned into
// riff's resources. Pure: the Dockerfile next to a Function document is passed in as text.
import { API_VERSION } from "./resources.js";

/** The apiVersions riff's own documents carried: v1 up to riff 0.0.5, v1alpha1 after. */
export const RIFF_API_VERSIONS = ["projectriff.io/v1", API_VERSION] as const;

/** A document in riff's form rewritten to ours, with a warning for each field that has no meaning here. */
export interface Translated {
  value: unknown;
  warnings: string[];
}

/** riff's Invoker document mapped onto one of the built-in invokers. */
export interface RiffInvokerMapping {
  /** The name in the document (`node`, `shell`, ...). */
  name: string;
  /** The built-in invoker that runs its functions here. */
  builtin: string;
  matchers: string[];
  warnings: string[];
}

/** riff's invoker names and the built-in invokers that run their functions. */
const BUILTIN_OF: Record<string, string> = { node: "node", java: "java", python3: "python3", python2: "python3", command: "command", shell: "command", go: "go" };

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Rewrites a riff Function, Topic or Invoker document to riff's own resources. Documents already
 * in our form pass unchanged. A Function with no `spec.invoker`/`spec.artifact` takes them from
 * `dockerfile` (its `FROM projectriff/<invoker>-function-invoker` and `FUNCTION_URI`).
 */
export function fromRiffYaml(value: unknown, dockerfile?: string): Translated {
  if (!isDoc(value)) return { value, warnings: [] };
  // v1 documents are the same kinds with the same fields as v1alpha1.
  const doc: Doc = { ...value, apiVersion: value["apiVersion"] === "projectriff.io/v1" ? API_VERSION : value["apiVersion"] };
  const warnings: string[] = [];
  if (doc["kind"] !== "Function" || !isDoc(doc["spec"])) return { value: doc, warnings };
  const spec: Doc = { ...doc["spec"] };
  if (spec["protocol"] !== undefined) {
    warnings.push(`spec.protocol (${String(spec["protocol"])}): ignored; riff talks to every invoker over its own frame protocol`);
    delete spec["protocol"];
  }
  const container = spec["container"];
  if (container !== undefined) {
    delete spec["container"];
    for (const [key, v] of Object.entries(isDoc(container) ? container : {})) {
      if (key === "env" && Array.isArray(v)) mapEnv(v, spec, warnings);
      else if (key === "image") warnings.push(`spec.container.image (${String(v)}): ignored; riff runs the code in the function's folder (spec.artifact), no image is built or pulled`);
      else warnings.push(`spec.container.${key}: ignored; riff runs functions as processes, not containers (see spec.resources and spec.env)`);
    }
  }
  const windowing = spec["windowing"];
  if (windowing !== undefined) {
    delete spec["windowing"];
    // size 1 is riff's default and what happens here to every message: one call each.
    if (!(isDoc(windowing) && windowing["size"] === 1 && Object.keys(windowing).length === 1)) {
      warnings.push(`spec.windowing: ignored; riff calls a function once per message, and a stream function windows its input itself with @riff/sdk's windows (docs/sdk.md)`);
    }
  }
  if (dockerfile !== undefined && (spec["invoker"] === undefined || spec["artifact"] === undefined)) {
    const from = fromDockerfile(dockerfile);
    if (from.invoker !== undefined) spec["invoker"] ??= from.invoker;
    if (from.artifact !== undefined) spec["artifact"] ??= from.artifact;
    if (from.handler !== undefined) spec["handler"] ??= from.handler;
  }
  doc["spec"] = spec;
  return { value: doc, warnings };
}

/** `container.env` (`[{name, value}]`) becomes `spec.env`; `valueFrom` has no counterpart. */
function mapEnv(list: unknown[], spec: Doc, warnings: string[]): void {
  const env: Record<string, string> = isDoc(spec["env"]) ? { ...(spec["env"] as Record<string, string>) } : {};
  for (const item of list) {
    if (isDoc(item) && typeof item["name"] === "string" && typeof item["value"] === "string") env[item["name"]] = item["value"];
    else warnings.push(`spec.container.env: an entry without a plain name and value is ignored; use spec.secrets for secret values`);
  }
  spec["env"] = env;
}

/** What a riff Dockerfile says: the invoker (from its base image), the artifact and the handler. */
export function fromDockerfile(text: string): { invoker?: string; artifact?: string; handler?: string } {
  const vars = new Map<string, string>();
  const copies: [string, string][] = [];
  let invoker: string | undefined;
  let uri: string | undefined;
  const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_m, k: string) => vars.get(k) ?? "").replace(/^"|"$/g, "");
  for (const raw of text.replace(/\\\n/g, " ").split("\n")) {
    const [word, ...rest] = raw.trim().split(/\s+/);
    const args = rest.join(" ");
    switch (word?.toUpperCase()) {
      case "FROM": {
        const m = /projectriff\/([a-z0-9]+)-function-invoker/.exec(args);
        if (m?.[1] !== undefined) invoker = BUILTIN_OF[m[1]] ?? m[1];
        break;
      }
      case "ARG":
      case "ENV": {
        const m = /^(\w+)(?:=|\s+)(.*)$/.exec(args);
        if (m?.[1] !== undefined && m[2] !== undefined) {
          const v = expand(m[2].trim());
          vars.set(m[1], v);
          if (m[1] === "FUNCTION_URI" && word.toUpperCase() === "ENV") uri = v;
        } else if (m === null && /^\w+$/.test(args) && !vars.has(args)) vars.set(args, "");
        break;
      }
      case "ADD":
      case "COPY": {
        const parts = args.split(/\s+/).filter((p) => !p.startsWith("--")).map(expand);
        const dest = parts.at(-1);
        for (const src of parts.slice(0, -1)) if (dest !== undefined) copies.push([src, dest]);
        break;
      }
    }
  }
  uri ??= vars.get("FUNCTION_URI");
  if (uri === undefined || uri === "") return invoker === undefined ? {} : { invoker };
  const [location = "", query = ""] = uri.replace(/^file:\/\//, "").split("?");
  const inImage = (location.split(",")[0] ?? "").replace(/\/+/g, "/");
  const handler = new URLSearchParams(query).get("handler") ?? undefined;
  // The file in the folder is the one an ADD or COPY put where FUNCTION_URI points.
  const base = inImage.split("/").filter(Boolean).at(-1) ?? "";
  let artifact: string | undefined;
  for (const [src, dest] of copies) {
    const d = dest.replace(/\/+/g, "/");
    if (d === inImage) artifact = src;
    else if (d.endsWith("/") && `${d}${src.split("/").at(-1) ?? ""}` === inImage) artifact = src;
    else if ((src === "." || src === "./") && inImage.startsWith(d)) artifact = inImage.slice(d.length) || ".";
  }
  artifact ??= base === "" ? "." : base;
  const out: { invoker?: string; artifact?: string; handler?: string } = { artifact: artifact.replace(/^\.\//, "") || "." };
  if (invoker !== undefined) out.invoker = invoker;
  // A command's FUNCTION_URI names the program itself; there is no handler to pass.
  if (handler !== undefined && handler !== "") out.handler = handler;
  return out;
}

/**
 * riff's Invoker document (no `spec.command`; `version`, `files`, `functionTemplate`, `doc`),
 * mapped onto the built-in invoker of its language; undefined when the document is ours.
 */
export function riffInvokerOf(value: unknown): RiffInvokerMapping | Error | undefined {
  if (!isDoc(value) || value["kind"] !== "Invoker" || !isDoc(value["spec"]) || value["spec"]["command"] !== undefined) return undefined;
  const spec = value["spec"];
  const name = isDoc(value["metadata"]) && typeof value["metadata"]["name"] === "string" ? value["metadata"]["name"] : "";
  const builtin = BUILTIN_OF[name];
  if (builtin === undefined) {
    return new Error(`riff's Invoker '${name}' has no built-in counterpart here (there are: ${Object.keys(BUILTIN_OF).join(", ")}); declare it with spec.command and spec.protocol (docs/resources.md)`);
  }
  const warnings: string[] = [];
  if (name !== builtin) warnings.push(`metadata.name (${name}): riff runs these functions with its built-in '${builtin}' invoker; write spec.invoker: ${builtin} in their Function`);
  const why: Record<string, string> = {
    version: "the invoker is part of riff, there is no image tag to pick",
    functionTemplate: "riff's defaults apply to the Functions it writes",
    topicTemplate: "riff's defaults apply to the Topics it writes",
    files: "riff builds no image: no Dockerfile or .dockerignore is written",
    doc: "riff's own help is in `riff create --help` and docs/invokers.md",
  };
  for (const [key, reason] of Object.entries(why)) if (spec[key] !== undefined) warnings.push(`spec.${key}: ignored; ${reason}`);
  if (isDoc(spec["handler"]) && spec["handler"]["default"] !== undefined) {
    warnings.push(`spec.handler.default: ignored; the built-in '${builtin}' invoker picks the handler itself when --handler is not given (docs/invokers.md)`);
  }
  const matchers = Array.isArray(spec["matchers"]) ? spec["matchers"].filter((m): m is string => typeof m === "string") : [];
  return { name, builtin, matchers, warnings };
}
