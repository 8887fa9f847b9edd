/**
 * The CLI's Kubernetes target: `riff create/apply/list/describe/delete` with `--kubeconfig`,
 * `--context` or `RIFF_TARGET=kubernetes` act on riff's custom resources in a Kubernetes
 * cluster, and send code, logs and messages through riff's gateway there. Only this file talks
 * to the apiserver; what is sent and shown is in cli-target-resources.ts.
 */
import { RiffError } from "@riff/core";
import { CLI_FIELD_MANAGER, type CustomResource } from "./cli-target-resources.js";
import { ADMIN_SECRET } from "./install.js";
import { KubeApiError, type KindRef, type KubeObject } from "./kube-api.js";
import { ClientKubeApi, loadKubeConfig } from "./kube-client.js";
import { RIFF_SYSTEM_NAMESPACE } from "./settings.js";

export { ADMIN_SECRET, RIFF_SYSTEM_NAMESPACE };
/** The key of the admin token in Secret {@link ADMIN_SECRET}. */
export const ADMIN_SECRET_KEY = "token";

const SECRETS: KindRef = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
const kindRef = (kind: RiffKind): KindRef => ({ group: "projectriff.io", version: "v1alpha1", kind, plural: `${kind.toLowerCase()}s` });

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
export type RiffKind = "Function" | "Topic" | "Invoker";

/** One Kubernetes cluster, as the kubeconfig reaches it, through the controller's own {@link ClientKubeApi}. */
export class KubeTarget {
  private constructor(
    private readonly api: ClientKubeApi,
    readonly namespace: string,
    private readonly o: KubeTargetOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Loads the kubeconfig (no call is made yet). */
  static connect(o: KubeTargetOptions, env: NodeJS.ProcessEnv = process.env): KubeTarget {
    const kc = loadKubeConfig({ kubeconfig: o.kubeconfig, context: o.context });
    const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
    return new KubeTarget(new ClientKubeApi(kc), namespace, o, env);
  }

  /** Server-side apply as `riff-cli`, never forced: a field another manager owns is a RIFF_CONFLICT. */
  async apply(cr: CustomResource): Promise<CustomResource> {
    try {
      return (await this.api.apply(cr as unknown as KubeObject, CLI_FIELD_MANAGER, false)) as unknown as CustomResource;
    } catch (err) {
      throw kubeError(err, cr.kind, cr.metadata.name);
    }
  }

  async list(kind: RiffKind): Promise<CustomResource[]> {
    try {
      return (await this.api.list(kindRef(kind), this.namespace)).items as unknown as CustomResource[];
    } catch (err) {
      throw kubeError(err, kind);
    }
  }

  /** The resource, or undefined when there is none of that name. */
  async get(kind: RiffKind, name: string): Promise<CustomResource | undefined> {
    try {
      return (await this.api.get(kindRef(kind), this.namespace, name)) as unknown as CustomResource | undefined;
    } catch (err) {
      throw kubeError(err, kind, name);
    }
  }

  async delete(kind: RiffKind, name: string): Promise<void> {
    try {
      if ((await this.api.get(kindRef(kind), this.namespace, name)) === undefined) throw new KubeApiError(404, `${kind.toLowerCase()}s.projectriff.io "${name}" not found`);
      await this.api.delete(kindRef(kind), this.namespace, name);
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
      const secret = await this.api.get(SECRETS, RIFF_SYSTEM_NAMESPACE, ADMIN_SECRET);
      if (secret === undefined) throw new KubeApiError(404, `secrets "${ADMIN_SECRET}" not found`);
      data = secret["data"] as Record<string, string> | undefined;
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
function missingKind(err: KubeApiError): boolean {
  return /the server could not find the requested resource|no matches for kind|unable to find api field|unable to find resource/i.test(err.message);
}

/** The apiserver's answer as riff's error, with the code a script can test and a hint. */
export function kubeError(err: unknown, kind: string, name?: string): RiffError {
  const what = name === undefined ? `${kind}s` : `${kind.toLowerCase()}/${name}`;
  if (!(err instanceof KubeApiError)) {
    const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code ?? (err as { code?: string } | undefined)?.code;
    return new RiffError("RIFF_KUBERNETES_UNAVAILABLE", `cannot reach the Kubernetes API for ${what}: ${err instanceof Error ? err.message : String(err)}${typeof cause === "string" ? ` (${cause})` : ""}`, {
      hint: "check the kubeconfig's server and credentials: kubectl cluster-info",
      cause: err,
    });
  }
  const message = `${what}: ${err.message}`;
  switch (err.status) {
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
      return new RiffError("RIFF_KUBERNETES_UNAVAILABLE", `${message} (HTTP ${err.status})`, { hint: "try again; kubectl get --raw /readyz says whether the apiserver is healthy" });
  }
}
