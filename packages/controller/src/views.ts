import type { Broker, PartitionLag } from "@riff/broker";
import type { RunnerSnapshot } from "@riff/runtime";
import type { FunctionCatalog } from "./catalog.js";
import type { StoredFunction } from "./function-spec.js";
import type { LocalRunnerHost } from "./runner-host.js";
import { decisionsSince, type Scaler } from "./scaler.js";

/** A function as `riff list` and the API show it: its spec, what runs of it, and its lag. */
export type FunctionView = StoredFunction &
  RunnerSnapshot & {
    desired: number;
    ready: number;
    lag: number;
    partitionLag: (PartitionLag & { topic: string | undefined })[];
  };

/** `riff describe function`: the view plus the autoscaler's rates and decisions. */
export type FunctionDetail = FunctionView & {
  rates: ReturnType<Scaler["rates"]>;
  decisions: ReturnType<Scaler["decisions"]>;
};

/** Where function views come from: this daemon's runners, or every node of a cluster. */
export interface FunctionViews {
  list(): Promise<FunctionView[]>;
  get(name: string): Promise<FunctionDetail | undefined>;
}

/** What a function that runs nowhere yet shows. */
export function idleSnapshot(fn: StoredFunction): RunnerSnapshot {
  return { status: "idle", error: undefined, revision: fn.revision, replicas: [], shape: undefined, inFlight: 0, lastActivityAt: 0, assigned: [] };
}

/** The view of `fn` given what runs of it and the autoscaler's wish. */
export async function functionView(broker: Broker, fn: StoredFunction, snap: RunnerSnapshot, desired: number | undefined): Promise<FunctionView> {
  const lags = await Promise.all(fn.inputs.map((t) => broker.lag(t, fn.name).catch(() => undefined)));
  const partitionLag = lags.flatMap((l, i) => (l?.partitions ?? []).map((p) => ({ topic: fn.inputs[i], ...p })));
  // The earlier revisions are `riff revisions`' to show, not every list's.
  const { history: _history, ...spec } = fn;
  return {
    ...spec,
    ...snap,
    desired: desired ?? snap.replicas.length,
    ready: snap.replicas.filter((r) => r.state === "ready").length,
    lag: partitionLag.reduce((sum, p) => sum + p.lag, 0),
    partitionLag,
  };
}

/** Views of one daemon: its catalog and its own runners. */
export function localViews(o: { broker: Broker; catalog: FunctionCatalog; host: LocalRunnerHost; scaler: Scaler }): FunctionViews {
  const view = (fn: StoredFunction) => functionView(o.broker, fn, o.host.snapshot(fn.name) ?? idleSnapshot(fn), o.scaler.desired(fn.name));
  return {
    list: () => Promise.all(o.catalog.list().map(view)),
    async get(name) {
      const fn = o.catalog.get(name)?.value;
      if (fn === undefined) return undefined;
      return { ...(await view(fn)), rates: o.scaler.rates(name), decisions: decisionsSince(o.scaler.decisions(name), fn.createdAt) };
    },
  };
}
