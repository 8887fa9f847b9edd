import type { Broker } from "@riff/broker";
import type { FunctionCatalog, FunctionViews, InvokerRegistry } from "@riff/controller";
import type { NodeRow, RecordReader, TelemetryHub } from "@riff/core";
import type { DashboardSources } from "@riff/dashboard";
import type { LogSource } from "./admin-api.js";
import { boxOf } from "./dead-letter-api.js";

/** The daemon's parts the dashboard reads: the same objects the admin API serves from. */
export interface DashboardParts {
  broker: Broker;
  catalog: FunctionCatalog;
  views: FunctionViews;
  logs: LogSource;
  invokers: InvokerRegistry;
  telemetry: TelemetryHub;
  status: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  warnings: () => Promise<string[]>;
  nodes?: (() => NodeRow[]) | undefined;
  records?: RecordReader | undefined;
}

/** Adapts the daemon's parts to what the dashboard reads, so `riff list` and `/ui` cannot drift. */
export function dashboardSources(p: DashboardParts): DashboardSources {
  const box = (fn: string) => boxOf(p.broker, p.catalog, fn);
  return {
    functions: p.views,
    topics: {
      list: () => p.broker.listTopics(),
      describe: (name) => p.broker.describeTopic(name),
      lag: (topic, group) => p.broker.lag(topic, group),
      endOffsets: (topic) => p.broker.endOffsets(topic),
      read: (topic, partition, from, limit) => p.broker.read(topic, partition, from, limit),
      offsetsForTimestamp: (topic, at) => p.broker.offsetsForTimestamp(topic, at),
    },
    logs: p.logs,
    deadLetters: {
      list: async (fn) => {
        const b = await box(fn);
        return { topic: b.topic, rows: await b.list() };
      },
      get: async (fn, partition, offset) => (await box(fn)).get(partition, offset),
      redrive: async (fn) => (await box(fn)).redrive(),
      purge: async (fn) => (await box(fn)).purge(),
    },
    invokers: () => p.invokers.list(),
    status: async () => p.status(),
    warnings: p.warnings,
    ...(p.nodes === undefined ? {} : { nodes: p.nodes }),
    telemetry: p.telemetry,
    records: p.records,
  };
}
