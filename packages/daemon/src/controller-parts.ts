import type { Logger, TelemetrySink } from "@riff/core";
import type { Broker } from "@riff/broker";
import {
  Deployer,
  FileResourceStore,
  flatLayout,
  folderLayout,
  FunctionCatalog,
  InvokerRegistry,
  LocalArtifactStore,
  LocalRunnerHost,
  Reconciler,
  RevisionFolders,
  Scaler,
  TopicRates,
  WorkQueue,
  type ArtifactStore,
  type Secret,
  type ApiKey,
  type ApiKeyStore,
  type SecretStore,
  type Membership,
  type PlacementOf,
  type ResourceStore,
  type StoredFunction,
  type TopicRate,
  type TopicRateStore,
} from "@riff/controller";
import { builtinInvokers, type InvokerDefinition, type CallerRegistry, type Limiter, type ReplySink, type Sandbox } from "@riff/runtime";
import type { FunctionLogs } from "./function-logs.js";
import type { HomePaths, ResolvedDaemonOptions } from "./options.js";

/** The stores of a mode: the home's files for one daemon, JetStream KV for a cluster. */
export interface Stores {
  functions: ResourceStore<StoredFunction>;
  invokers: ResourceStore<InvokerDefinition>;
  secrets: SecretStore;
  keys: ApiKeyStore;
  topicRates: TopicRateStore;
  artifacts: ArtifactStore;
}

/** The stores of one daemon, in its home. */
export function homeStores(paths: HomePaths): Stores {
  return {
    functions: new FileResourceStore<StoredFunction>(folderLayout(paths.functions, "function.json")),
    invokers: new FileResourceStore<InvokerDefinition>(flatLayout(paths.invokers)),
    // Mode 0600, in a folder of mode 0700: only riff's user reads them (and no sandboxed function).
    secrets: new FileResourceStore<Secret>(flatLayout(paths.secrets, 0o600)),
    keys: new FileResourceStore<ApiKey>(flatLayout(paths.keys, 0o600)),
    topicRates: new FileResourceStore<TopicRate>(flatLayout(paths.topicRates)),
    // Each distinct code kept once by digest, for `riff rollback` after the user's file changed.
    artifacts: new LocalArtifactStore(paths.artifacts),
  };
}

/** The controller's parts, built once, whatever the mode. */
export interface ControllerParts {
  logs: FunctionLogs;
  invokers: InvokerRegistry;
  catalog: FunctionCatalog;
  host: LocalRunnerHost;
  reconciler: Reconciler;
  deployer: Deployer;
  scaler: Scaler;
  /** The topics' rates, for the gateway (started by the daemon). */
  rates: TopicRates;
}

/** How the mode places functions on this node. */
export interface Placing {
  placement: PlacementOf;
  claim(name: string): Promise<Membership | undefined>;
  /** Whether this node runs `name` at all (`--runs`); the others it only knows. @default every function */
  runsHere?: (name: string) => boolean;
}

/** One daemon: it reads every function's inputs itself. */
export const everyFunctionHere: Placing = {
  placement: () => ({ membership: { weight: 1 } }),
  claim: () => Promise.resolve({ weight: 1 }),
};

/** Builds the reconciler, the deployer and what they stand on, from a mode's stores. */
export async function wireController(o: {
  options: ResolvedDaemonOptions;
  paths: HomePaths;
  broker: Broker;
  stores: Stores;
  placing: Placing;
  replies: ReplySink;
  logs: FunctionLogs;
  sandbox: Sandbox | undefined;
  limiter: Limiter | undefined;
  callers: CallerRegistry;
  telemetry: TelemetrySink;
  /** This cluster node's name (absent on one daemon). */
  node?: string | undefined;
  logger: Logger;
}): Promise<ControllerParts> {
  const { options, paths, broker, stores, logger, logs } = o;
  const invokers = new InvokerRegistry(stores.invokers, builtinInvokers, logger.child({ component: "invokers" }));
  await invokers.load();
  const catalog = new FunctionCatalog();
  const queue = new WorkQueue();
  const host = new LocalRunnerHost({
    broker,
    replies: o.replies,
    invokers,
    revisions: new RevisionFolders(paths.functions, stores.artifacts),
    logger: logger.child({ component: "runners" }),
    maxHops: options.maxHops,
    sandbox: o.sandbox,
    limiter: o.limiter,
    callers: o.callers,
    secrets: stores.secrets,
    poolDir: paths.pool,
    onLog: (fn, line) => logs.write(fn, line),
    onRemoved: (fn) => logs.remove(fn),
    readersOf: (topic) => catalog.readersOf(topic),
    telemetry: o.telemetry,
    node: o.node,
  });
  const reconciler = new Reconciler({
    store: stores.functions,
    catalog,
    host,
    queue,
    placement: o.placing.placement,
    ...(o.placing.runsHere !== undefined ? { runsHere: o.placing.runsHere } : {}),
    logger: logger.child({ component: "reconciler" }),
  });
  const rates = new TopicRates(stores.topicRates, logger.child({ component: "rates" }));
  const deployer = new Deployer({
    broker,
    store: stores.functions,
    catalog,
    host,
    invokers,
    artifacts: stores.artifacts,
    queue,
    logger: logger.child({ component: "deployer" }),
    claim: o.placing.claim,
    ...(o.placing.runsHere !== undefined ? { runsHere: o.placing.runsHere } : {}),
    rates,
  });
  const scaler = new Scaler(broker, logger.child({ component: "scaler" }), o.telemetry);
  return { logs, invokers, catalog, host, reconciler, deployer, scaler, rates };
}
