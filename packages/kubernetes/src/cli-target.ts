/**
 * The CLI's Kubernetes target: `riff create/apply/list/describe/delete` with `--kubeconfig`,
 * `--context` or `RIFF_TARGET=kubernetes` act on riff's custom resources in a Kubernetes
 * cluster, and send code, logs and messages through riff's gateway there. Only this file talks
 * to the apiserver; what is sent and shown is in cli-target-resources.ts.
 */
import { ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { RiffError } from "@riff/core";
import { CLI_FIELD_MANAGER, RIFF_API_VERSION, type CustomResource } from "./cli-target-resources.js";

/** Where riff's system parts run: its controller, its gateway and the admin token's Secret. */
export const RIFF_SYSTEM_NAMESPACE = "riff-system";
/** The Secret holding the cluster's admin token, under key {@link ADMIN_SECRET_KEY}. */
export const ADMIN_SECRET = "riff-admin";
export const ADMIN_SECRET_KEY = "token";

/** The CLI's flags and environment that choose and reach a Kubernetes cluster. */
export interface KubeTargetOptions {
  /** @default $KUBECONFIG, else ~/.kube/config, else the in-cluster service account */
  kubeconfig?: string | undefined;
  /** @default the kubeconfig's current context */
  context?: string | undefined;
  /** @default the context's namespace, else "default" */
  namespace?: string | undefined;
  /** riff's gateway URL (a port-forward to Service riff-gateway). @default $RIFF_GATEWAY */
  gateway?: string | undefined;
  /** The admin token. @default $RIFF_TOKEN, else Secret riff-admin in riff-system */
  token?: string | undefined;
}

/** The kinds of riff's custom resources the CLI handles. */
export type RiffKind = "Function" | "Topic";

/** One Kubernetes cluster, as the kubeconfig reaches it. */
export class KubeTarget {
  private constructor(
    private readonly kc: KubeConfig,
    private readonly objects: KubernetesObjectApi,
    readonly namespace: string,
    private readonly o: KubeTargetOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Loads the kubeconfig (no call is made yet). */
  static connect(o: KubeTargetOptions, env: NodeJS.ProcessEnv = process.env): KubeTarget {
    const kc = new KubeConfig();
    try {
      if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
      else kc.loadFromDefault();
    } catch (err) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `--kubeconfig ${o.kubeconfig ?? "(default)"}: cannot read it: ${err instanceof Error ? err.message : String(err)}`, {
        hint: "give a kubeconfig file with --kubeconfig FILE (or set KUBECONFIG)",
      });
    }
    if (o.context !== undefined) {
      if (kc.getContextObject(o.context) === null) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", `--context ${o.context}: no such context in the kubeconfig (it has ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`, {
          hint: "list them with: kubectl config get-contexts",
        });
      }
      kc.setCurrentContext(o.context);
    }
    const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
    return new KubeTarget(kc, KubernetesObjectApi.makeApiClient(kc), namespace, o, env);
  }

  /** Server-side apply as `riff-cli`, never forced: a field another manager owns is a RIFF_CONFLICT. */
  async apply(cr: CustomResource): Promise<CustomResource> {
    try {
      return (await this.objects.patch(cr, undefined, undefined, CLI_FIELD_MANAGER, false, PatchStrategy.ServerSideApply)) as CustomResource;
    } catch (err) {
      throw kubeError(err, cr.kind, cr.metadata.name);
    }
  }

  async list(kind: RiffKind): Promise<CustomResource[]> {
    try {
      return (await this.objects.list(RIFF_API_VERSION, kind, this.namespace)).items as CustomResource[];
    } catch (err) {
      throw kubeError(err, kind);
    }
  }

  /** The resource, or undefined when there is none of that name. */
  async get(kind: RiffKind, name: string): Promise<CustomResource | undefined> {
    try {
      return (await this.objects.read({ apiVersion: RIFF_API_VERSION, kind, metadata: { name, namespace: this.namespace } })) as CustomResource;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404 && !missingKind(err)) return undefined;
      throw kubeError(err, kind, name);
    }
  }

  async delete(kind: RiffKind, name: string): Promise<void> {
    try {
      await this.objects.delete({ apiVersion: RIFF_API_VERSION, kind, metadata: { name, namespace: this.namespace } });
    } catch (err) {
      throw kubeError(err, kind, name);
    }
  }

  /** The gateway's URL: `--gateway`, else `$RIFF_GATEWAY`. */
  gateway(): string {
    const url = this.o.gateway ?? this.env["RIFF_GATEWAY"];
    if (url !== undefined && /^https?:\/\/\S+$/.test(url)) return url;
    throw new RiffError("RIFF_INVALID_ARGUMENT", url === undefined ? "riff's gateway in Kubernetes needs a URL: --gateway or RIFF_GATEWAY" : `--gateway ${url}: not an http(s) URL`, {
      hint: `forward a port to it: kubectl -n ${RIFF_SYSTEM_NAMESPACE} port-forward svc/riff-gateway 8080:80, then --gateway http://127.0.0.1:8080`,
    });
  }

  /** The admin token: `--token`, else `$RIFF_TOKEN`, else the Secret riff-admin (key token) in riff-system. */
  async adminToken(): Promise<string> {
    const given = this.o.token ?? this.env["RIFF_TOKEN"];
    if (given !== undefined && given !== "") return given;
    let data: Record<string, string> | undefined;
    try {
      data = (await this.kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: ADMIN_SECRET, namespace: RIFF_SYSTEM_NAMESPACE })).data;
    } catch (err) {
      throw kubeError(err, "Secret", `${RIFF_SYSTEM_NAMESPACE}/${ADMIN_SECRET}`);
    }
    const encoded = data?.[ADMIN_SECRET_KEY];
    if (encoded === undefined) {
      throw new RiffError("RIFF_UNAUTHORIZED", `Secret ${RIFF_SYSTEM_NAMESPACE}/${ADMIN_SECRET} has no key '${ADMIN_SECRET_KEY}'`, {
        hint: "give the token with --token or RIFF_TOKEN, or reinstall riff (riff system install --kubernetes)",
      });
    }
    return Buffer.from(encoded, "base64").toString("utf8").trim();
  }
}

/** A 404 that says the kind itself is unknown: riff's CRDs are not installed. */
function missingKind(err: ApiException<unknown>): boolean {
  return /the server could not find the requested resource|no matches for kind|unable to find api field/i.test(statusMessage(err));
}

/** The message of a Kubernetes `Status` in an error's body, or the error's own. */
function statusMessage(err: ApiException<unknown>): string {
  const body: unknown = typeof err.body === "string" ? safeJson(err.body) ?? err.body : err.body;
  if (typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string") return (body as { message: string }).message;
  return typeof body === "string" && body !== "" ? body : err.message;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The apiserver's answer as riff's error, with the code a script can test and a hint. */
export function kubeError(err: unknown, kind: string, name?: string): RiffError {
  const what = name === undefined ? `${kind}s` : `${kind.toLowerCase()}/${name}`;
  if (!(err instanceof ApiException)) {
    const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code ?? (err as { code?: string } | undefined)?.code;
    return new RiffError("RIFF_KUBERNETES_UNAVAILABLE", `cannot reach the Kubernetes API for ${what}: ${err instanceof Error ? err.message : String(err)}${typeof cause === "string" ? ` (${cause})` : ""}`, {
      hint: "check the kubeconfig's server and credentials: kubectl cluster-info",
      cause: err,
    });
  }
  const message = `${what}: ${statusMessage(err)}`;
  switch (err.code) {
    case 401:
      return new RiffError("RIFF_UNAUTHORIZED", message, { hint: "the kubeconfig's credentials were refused: log in again (kubectl get pods tells)" });
    case 403:
      return new RiffError("RIFF_FORBIDDEN", message, { hint: `ask for RBAC rights on ${kind === "Secret" ? "that Secret, or give --token" : "riff's resources (projectriff.io)"} in namespace ${kind === "Secret" ? RIFF_SYSTEM_NAMESPACE : "this one"}` });
    case 404:
      if (missingKind(err)) return new RiffError("RIFF_NOT_FOUND", `${message}: riff's custom resources are not installed in this cluster`, { hint: "install riff: riff system install --kubernetes -o yaml | kubectl apply --server-side -f -" });
      return new RiffError(kind === "Function" ? "RIFF_FUNCTION_NOT_FOUND" : kind === "Topic" ? "RIFF_TOPIC_NOT_FOUND" : "RIFF_NOT_FOUND", message, { hint: "see what there is: riff list --kubeconfig ..." });
    case 409:
      return new RiffError("RIFF_CONFLICT", message, {
        hint: "another field manager (kubectl, a GitOps tool) owns these fields: change them with that tool, or take them over with kubectl apply --server-side --force-conflicts --field-manager riff-cli",
      });
    case 400:
    case 422:
      return new RiffError("RIFF_INVALID_RESOURCE", message, { hint: "the apiserver refused the resource against riff's CRD schema: fix the field it names" });
    default:
      return new RiffError("RIFF_KUBERNETES_UNAVAILABLE", `${message} (HTTP ${err.code})`, { hint: "try again; kubectl get --raw /readyz says whether the apiserver is healthy" });
  }
}
