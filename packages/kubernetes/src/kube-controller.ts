import type { Logger } from "@riff/core";
import { BrokerConnection, capacityOf, clusterOf, createNatsBroker, KvBucket, Presence, type NatsAuth, type NatsBroker } from "@riff/broker-nats";
import { clusterNames, KvResourceStore, type NodeState } from "@riff/cluster";
import { FunctionCatalog, InvokerRegistry, Reconciler, Scaler, WorkQueue, type StoredFunction } from "@riff/controller";
import { builtinInvokers, type InvokerDefinition } from "@riff/runtime";
import { DeploymentHost } from "./deployment-host.js";
import { KubeFunctionSource } from "./function-source.js";
import { pause } from "./informer.js";
import { FUNCTIONS, type KubeApi } from "./kube-api.js";
import { LeaseElection, type LeaseTiming } from "./lease.js";
import { KubeScaling } from "./kube-scaling.js";
import type { InstallSettings } from "./settings.js";
import { EventRecorder, StatusWriter } from "./status.js";
import { TopicSync } from "./topic-sync.js";
import { InvokerSync } from "./invoker-sync.js";

/** What the controller needs. */
export interface KubeControllerOptions {
  api: KubeApi;
  /** The riff cluster's NATS servers and credentials. */
  servers: string[];
  auth?: NatsAuth;
  settings: InstallSettings;
  /** This controller's identity in the election (its pod's name). */
  identity: string;
  lease: { namespace: string; name: string; timing?: Partial<LeaseTiming> };
  /** Watch one namespace only; undefined: every namespace. */
  namespace?: string | undefined;
  /** @default 500 ms between autoscaling rounds */
  scaleIntervalMs?: number;
  /** @default 30 s between full re-reads of the Functions, besides the watch */
  resyncMs?: number;
  timeoutMs?: number;
  logger: Logger;
}

/**
 * riff's controller on Kubernetes. Every replica of it campaigns for a Lease; the leader runs
 * the same {@link Reconciler} as a riff daemon and a cluster node, fed by Function resources
 * and acting through a {@link DeploymentHost}; riff's autoscaler sets each Deployment's
 * replicas through /scale from the topic lag; Topic resources become the riff cluster's
 * streams, and Invoker resources its declared invokers. It reads the function pods' heartbeats on NATS without being a node.
 */
export class KubeController {
  private readonly election: LeaseElection;
  private readonly presence: Presence<NodeState>;
  private readonly status: StatusWriter;
  private readonly events: EventRecorder;
  private term: Promise<void> | undefined;

  private constructor(
    private readonly o: KubeControllerOptions,
    private readonly conn: BrokerConnection,
    private readonly broker: NatsBroker,
    private readonly mirror: KvResourceStore<StoredFunction>,
    private readonly invokers: InvokerRegistry,
  ) {
    const names = clusterNames(o.settings.clusterName);
    this.presence = new Presence<NodeState>({
      nc: conn.nc,
      subject: names.nodes,
      id: `controller-${o.identity}`,
      intervalMs: 500,
      timeoutMs: 2500,
      state: () => ({}) as NodeState,
      observer: true,
      logger: o.logger,
    });
    this.status = new StatusWriter(o.api, o.logger);
    this.events = new EventRecorder(o.api, "riff-controller", o.logger);
    this.election = new LeaseElection({
      api: o.api,
      namespace: o.lease.namespace,
      name: o.lease.name,
      identity: o.identity,
      timing: o.lease.timing,
      logger: o.logger.child({ component: "election" }),
      onLeading: (signal) => {
        this.term = this.lead(signal).catch((err: unknown) => o.logger.error("the controller's term failed", { err: String(err) }));
      },
    });
  }

  /** Connects to the riff cluster's NATS: its function store and its topics. */
  static async open(o: KubeControllerOptions): Promise<KubeController> {
    const timeoutMs = o.timeoutMs ?? 5000;
    const conn = await BrokerConnection.open(o.servers, timeoutMs, o.logger, o.auth ?? {}, `riff-controller-${o.identity}`);
    try {
      const replicas = capacityOf(clusterOf(conn.nc.info, conn.nc.getServer()));
      const js = conn.nc.jetstream({ timeout: timeoutMs });
      const jsm = await conn.nc.jetstreamManager({ timeout: timeoutMs });
      const names = clusterNames(o.settings.clusterName);
      const bucket = await KvBucket.open({ js, jsm, bucket: names.resources, replicas, history: 5, timeoutMs, check: () => conn.check(), logger: o.logger });
      const broker = createNatsBroker({ servers: o.servers, prefix: o.settings.clusterName, instance: `controller-${o.identity}`, auth: o.auth ?? {}, replicas, logger: o.logger.child({ component: "broker" }) });
      await broker.start();
      const invokers = new InvokerRegistry(new KvResourceStore<InvokerDefinition>(bucket, "invokers"), builtinInvokers, o.logger.child({ component: "invokers" }));
      return new KubeController(o, conn, broker, new KvResourceStore<StoredFunction>(bucket, "functions"), invokers);
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  get isLeader(): boolean {
    return this.election.isLeader;
  }

  /** The riff cluster's invokers as this controller knows them: built in, and declared. */
  invokerNames(): string[] {
    return this.invokers.names();
  }

  start(): void {
    this.presence.start();
    this.election.start();
  }

  /** Steps down (releasing the lease) and disconnects. */
  async stop(): Promise<void> {
    await this.election.stop();
    await this.term;
    this.presence.stop();
    await this.broker.stop();
    await this.conn.close();
  }

  /** One term as the leader: everything acts until `signal` aborts (the lease is lost or the controller stops). */
  private async lead(signal: AbortSignal): Promise<void> {
    const { o } = this;
    const may = () => this.election.holds();
    const catalog = new FunctionCatalog();
    const source = new KubeFunctionSource(o.api, o.logger, (cr, why) => {
      if (why === undefined || !may()) return;
      void this.status.write(FUNCTIONS, cr, { ready: { status: false, reason: why.reason, message: why.message } });
      void this.events.record(cr, "Warning", why.reason, why.message);
    }, o.namespace, (name) => this.invokers.get(name));
    await this.invokers.load().catch((err: unknown) => o.logger.warn("could not read the riff cluster's invokers", { err: String(err) }));
    const host = new DeploymentHost({ api: o.api, source, catalog, mirror: this.mirror, broker: this.broker, settings: o.settings, status: this.status, events: this.events, logger: o.logger });
    host.adopt((await this.mirror.list().catch(() => [])).map((r) => r.value));
    const guarded = { observe: host.observe.bind(host), list: host.list.bind(host), apply: (a: Parameters<DeploymentHost["apply"]>[0]) => (may() ? host.apply(a) : Promise.resolve()) };
    const reconciler = new Reconciler({
      store: source,
      catalog,
      host: guarded,
      queue: new WorkQueue(),
      placement: () => ({ membership: undefined }),
      logger: o.logger.child({ component: "reconciler" }),
      ...(o.resyncMs === undefined ? {} : { resyncMs: o.resyncMs }),
    });
    const scaling = new KubeScaling({ api: o.api, catalog, host, source, scaler: new Scaler(this.broker, o.logger.child({ component: "autoscaler" })), live: () => this.presence.live(), status: this.status, events: this.events, may, logger: o.logger.child({ component: "autoscaler" }) });
    const invokers = new InvokerSync({
      api: o.api,
      registry: this.invokers,
      catalog,
      status: this.status,
      events: this.events,
      logger: o.logger.child({ component: "invokers" }),
      may,
      namespace: o.namespace,
      // A function refused for an unknown invoker may run now: read the Functions again.
      changed: () => void source.list().then((all) => catalog.replace(all)).then(() => reconciler.reconcileAll()).catch(() => undefined),
    });
    const topics = new TopicSync({ api: o.api, broker: this.broker, status: this.status, events: this.events, logger: o.logger.child({ component: "topics" }), may, namespace: o.namespace });
    o.logger.info("term started: reconciling every Function", { adopted: host.list().length });
    await reconciler.start();
    o.logger.info("reconciled every Function; following changes");
    const loops = [
      topics.run(signal),
      invokers.run(signal),
      this.invokers.follow(signal),
      (async () => {
        while (!signal.aborted) {
          if (may()) await scaling.tick().catch((err: unknown) => o.logger.warn("an autoscaling round failed", { err: String(err) }));
          await pause(o.scaleIntervalMs ?? 500, signal);
        }
      })(),
    ];
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
    await reconciler.stop();
    await Promise.allSettled(loops);
  }
}
