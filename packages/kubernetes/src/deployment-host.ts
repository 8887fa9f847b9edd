import { findCycle, type Logger } from "@riff/core";
import type { Broker } from "@riff/broker";
import { sameRevision, type Action, type FunctionCatalog, type ObservedFunction, type ResourceStore, type RunnerHost, type StoredFunction } from "@riff/controller";
import { functionDeployment } from "./deployment.js";
import type { KubeFunctionSource } from "./function-source.js";
import { DEPLOYMENTS, FUNCTIONS, type KubeApi } from "./kube-api.js";
import type { InstallSettings } from "./settings.js";
import type { EventRecorder, StatusWriter } from "./status.js";

/** The field manager of everything the controller applies. */
export const CONTROLLER_MANAGER = "riff-controller";

/** What a {@link DeploymentHost} needs. */
export interface DeploymentHostOptions {
  api: KubeApi;
  source: KubeFunctionSource;
  catalog: FunctionCatalog;
  /** The riff cluster's function store (JetStream KV), which the function pods and the gateway read. */
  mirror: ResourceStore<StoredFunction>;
  /** The cluster's topics: a function's inputs exist before its pods read them. */
  broker: Broker;
  settings: InstallSettings;
  status: StatusWriter;
  events: EventRecorder;
  logger: Logger;
}

interface Deployed {
  fn: StoredFunction;
  /** Undefined for a function found in the mirror at start, whose resource is gone. */
  namespace: string | undefined;
}

/**
 * The reconciler's host on Kubernetes: a function "runs" when its Deployment is applied and
 * the riff cluster's store holds it, so that its pods (riff nodes started with `--runs NAME`)
 * and the gateways know it. The same reconciler as one daemon's and a cluster node's decides
 * when to start, roll, replace or stop; only what those mean differs.
 */
export class DeploymentHost implements RunnerHost {
  private readonly deployed = new Map<string, Deployed>();

  constructor(private readonly o: DeploymentHostOptions) {}

  /**
   * Functions the cluster's store holds from before this term: a reconcile removes those whose
   * resource is gone. The store is no proof that their Deployments were applied (a leader
   * killed between the two writes), so they are taken as of no revision: every one still
   * wanted is applied again (server-side apply makes that idempotent).
   */
  adopt(functions: StoredFunction[]): void {
    for (const fn of functions) if (!this.deployed.has(fn.name)) this.deployed.set(fn.name, { fn: { ...fn, revision: -1 }, namespace: undefined });
  }

  observe(name: string): ObservedFunction | undefined {
    const d = this.deployed.get(name);
    return d === undefined ? undefined : { fn: d.fn, membership: undefined, placementGeneration: undefined };
  }

  list(): { fn: StoredFunction }[] {
    return [...this.deployed.values()].map((d) => ({ fn: d.fn }));
  }

  /** Where the Deployment of `name` is; undefined when none was applied. */
  namespaceOf(name: string): string | undefined {
    return this.deployed.get(name)?.namespace;
  }

  async apply(action: Action): Promise<void> {
    switch (action.type) {
      case "start":
      case "roll":
      case "replace":
        await this.deploy(action.fn, action.type);
        return;
      case "stop":
        await this.undeploy(action.name);
        return;
      // Pods join their function's consumer groups by themselves; Kubernetes places them.
      case "join":
      case "leave":
      case "scale":
        return;
    }
  }

  private async deploy(fn: StoredFunction, how: Action["type"]): Promise<void> {
    const known = this.o.source.resource(fn.name);
    if (known === undefined) return;
    const { cr } = known;
    this.o.logger.debug("deploying", { fn: fn.name, how, revision: fn.revision });
    const cycle = fn.allowCycle ? undefined : findCycle(this.o.catalog.list(), fn.name);
    if (cycle !== undefined) {
      const message = `its output leads back to its input: ${cycle.join(" -> ")}; set spec.allowCycle: true if the loop is meant (riff's hop limit still stops runaway messages)`;
      await this.o.status.write(FUNCTIONS, cr, { ready: { status: false, reason: "TopologyCycle", message } });
      await this.o.events.record(cr, "Warning", "TopologyCycle", message);
      return;
    }
    for (const topic of fn.inputs) await this.o.broker.ensureTopic(topic);
    this.o.logger.debug("inputs exist", { fn: fn.name });
    const stored = await this.o.mirror.get(fn.name);
    if (stored === undefined || !sameRevision(stored.value, fn)) await this.o.mirror.put(fn.name, fn, stored?.revision ?? 0);
    this.o.logger.debug("stored in the riff cluster", { fn: fn.name });
    const deployment = functionDeployment(known.resource, this.o.settings) as Parameters<KubeApi["apply"]>[0];
    // Forced: these fields are the controller's; replicas are not among them (the autoscaler's, through /scale).
    await this.o.api.apply(deployment, CONTROLLER_MANAGER, true);
    this.deployed.set(fn.name, { fn, namespace: cr.metadata.namespace });
    const what = how === "start" ? "deployed" : "rolled out";
    await this.o.status.write(FUNCTIONS, cr, { ready: { status: true, reason: "Deployed", message: `revision ${fn.revision} ${what} as Deployment ${fn.name}` }, fields: { revision: fn.revision } });
    await this.o.events.record(cr, "Normal", how === "start" ? "Deployed" : "Updated", `revision ${fn.revision} ${what}: Deployment ${fn.name}`);
    this.o.logger.info(`function ${what}`, { fn: fn.name, namespace: cr.metadata.namespace, revision: fn.revision });
  }

  private async undeploy(name: string): Promise<void> {
    const d = this.deployed.get(name);
    const stored = await this.o.mirror.get(name);
    if (stored !== undefined) await this.o.mirror.delete(name);
    // The Function's deletion takes its Deployment by garbage collection; this covers a
    // resource whose name moved to another namespace.
    if (d?.namespace !== undefined) await this.o.api.delete(DEPLOYMENTS, d.namespace, name);
    this.deployed.delete(name);
    this.o.logger.info("function removed", { fn: name });
  }
}
