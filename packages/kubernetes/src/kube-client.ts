import {
  ApiException,
  AppsV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { RiffError } from "@riff/core";
import { apiVersionOf, KubeApiError, type KindRef, type KubeApi, type KubeList, type KubeObject, type WatchEvent } from "./kube-api.js";

/** Where the controller or the CLI finds the cluster: a kubeconfig file and context, else in-cluster. */
export interface KubeTarget {
  kubeconfig?: string | undefined;
  context?: string | undefined;
}

/** Loads the configuration: `--kubeconfig`, else $KUBECONFIG or ~/.kube/config, else the pod's service account. */
export function loadKubeConfig(t: KubeTarget = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (t.kubeconfig !== undefined) kc.loadFromFile(t.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `--kubeconfig ${t.kubeconfig ?? "(default)"}: cannot read it: ${(err as Error).message}`, {
      hint: "give a kubeconfig file with --kubeconfig FILE (or set KUBECONFIG)",
    });
  }
  if (t.context !== undefined) {
    if (kc.getContextObject(t.context) === null) {
      throw new RiffError("RIFF_INVALID_ARGUMENT", `--context ${t.context}: no such context in the kubeconfig (it has ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`, {
        hint: "list them with: kubectl config get-contexts",
      });
    }
    kc.setCurrentContext(t.context);
  }
  if (kc.getCurrentCluster() === null) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "the Kubernetes configuration's current context names no cluster", { hint: "check `kubectl config get-contexts`, then pass --context NAME" });
  }
  return kc;
}

/** The API's own message of a failed call, with its status; a network failure keeps its own. */
function translate(err: unknown): unknown {
  if (err instanceof ApiException) {
    const body = typeof err.body === "string" ? safeJson(err.body) : err.body;
    const message = (body as { message?: string } | undefined)?.message ?? String(err.message);
    return new KubeApiError(err.code, message);
  }
  // Discovery found no such kind: for riff's kinds, the CRDs are not installed.
  if (err instanceof Error && /Unrecognized API version and kind/.test(err.message)) {
    return new KubeApiError(404, `the server could not find the requested resource (${err.message})`);
  }
  return err;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw translate(err);
  }
}

const asKube = (o: KubernetesObject): KubeObject => o as unknown as KubeObject;
const asClient = (o: KubeObject): KubernetesObject => o as unknown as KubernetesObject;

/** {@link KubeApi} on a real apiserver, through @kubernetes/client-node 1.x. */
export class ClientKubeApi implements KubeApi {
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly apps: AppsV1Api;
  private readonly watcher: Watch;

  constructor(readonly kc: KubeConfig) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.watcher = new Watch(kc);
  }

  async list(kind: KindRef, namespace?: string): Promise<KubeList> {
    const list = await call(() => this.objects.list(apiVersionOf(kind), kind.kind, namespace));
    // A list's items carry no kind: the list's type says it.
    const items = list.items.map((i) => ({ ...asKube(i), apiVersion: apiVersionOf(kind), kind: kind.kind }));
    return { items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  async get(kind: KindRef, namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return asKube(await call(() => this.objects.read({ apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: { name, namespace } })));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  watch(kind: KindRef, resourceVersion: string, signal: AbortSignal, onEvent: (e: WatchEvent) => void, namespace?: string): Promise<void> {
    const base = kind.group === "" ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
    const path = namespace === undefined ? `${base}/${kind.plural}` : `${base}/namespaces/${namespace}/${kind.plural}`;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        if (err === undefined || signal.aborted) resolve();
        else reject(err);
      };
      const callback = (phase: string, obj: unknown) => {
        if (phase === "ERROR") {
          const status = obj as { code?: number; message?: string };
          finish(new KubeApiError(status.code ?? 500, status.message ?? "watch error"));
          return;
        }
        if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED") {
          onEvent({ type: phase, object: { ...(obj as KubeObject), apiVersion: apiVersionOf(kind), kind: kind.kind } });
        }
      };
      this.watcher
        .watch(path, { resourceVersion, allowWatchBookmarks: true }, callback, (err: unknown) => finish(err ?? undefined))
        .then((controller) => {
          if (signal.aborted) controller.abort();
          else signal.addEventListener("abort", () => controller.abort(), { once: true });
        })
        .catch((err: unknown) => finish(err));
    });
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    return asKube(await call(() => this.objects.create(asClient(obj))));
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    return asKube(await call(() => this.objects.replace(asClient(obj))));
  }

  async apply(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject> {
    return asKube(await call(() => this.objects.patch(asClient(obj), undefined, undefined, fieldManager, force, PatchStrategy.ServerSideApply)));
  }

  async patchStatus(kind: KindRef, namespace: string, name: string, status: Record<string, unknown>): Promise<KubeObject> {
    const body = { status };
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    const out = await call(() => this.custom.patchNamespacedCustomObjectStatus({ group: kind.group, version: kind.version, namespace, plural: kind.plural, name, body }, merge));
    return out as KubeObject;
  }

  async getScale(namespace: string, deployment: string): Promise<{ replicas: number; current: number }> {
    const scale = await call(() => this.apps.readNamespacedDeploymentScale({ name: deployment, namespace }));
    return { replicas: scale.spec?.replicas ?? 0, current: scale.status?.replicas ?? 0 };
  }

  async setScale(namespace: string, deployment: string, replicas: number): Promise<void> {
    const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
    await call(() => this.apps.patchNamespacedDeploymentScale({ name: deployment, namespace, body: { spec: { replicas } } }, merge));
  }

  async delete(kind: KindRef, namespace: string, name: string): Promise<void> {
    try {
      await call(() => this.objects.delete({ apiVersion: apiVersionOf(kind), kind: kind.kind, metadata: { name, namespace } }, undefined, undefined, undefined, undefined, "Background"));
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return;
      throw err;
    }
  }
}
