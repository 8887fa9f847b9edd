import type { FunctionView } from "@riff/controller";
import { RiffError } from "@riff/core";
import type { SafeHtml } from "./html.js";
import type { SeriesStore } from "./series.js";
import type { DashboardSources } from "./sources.js";
import { deadLettersRegion, type DeadLetterGroup } from "./views/dead-letters.js";
import { decisionsRegion, functionRegion, invocationsRegion } from "./views/function-page.js";
import { functionsTable } from "./views/functions.js";
import { overviewRegion } from "./views/overview.js";
import { invokersTable, systemRegion } from "./views/system.js";
import { topicRegion, topicsTable, type LagCell, type TopicRow } from "./views/topics.js";
import { topologySvg } from "./views/topology.js";

/** The views a page (and its stream) can watch. */
export const WATCHES = ["overview", "functions", "function", "topics", "topic", "topology", "dead-letters", "invokers", "system"] as const;
export type Watch = (typeof WATCHES)[number];

/** What a page or stream watches: a view, and the function or topic it is about. */
export interface WatchSpec {
  watch: Watch;
  fn?: string | undefined;
  topic?: string | undefined;
}

/** Invocation records listed on a function page. */
const RECORDS_SHOWN = 20;

/**
 * What one tick read, shared by every stream and page rendered from it: each source is asked
 * at most once a tick however many tabs watch, which keeps a busy daemon's cost bounded.
 */
export class TickData {
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(
    readonly sources: DashboardSources,
    readonly series: SeriesStore,
    readonly views: FunctionView[],
  ) {}

  once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = read();
      this.memo.set(key, p);
    }
    return p;
  }

  deadLetters(): Promise<DeadLetterGroup[]> {
    return this.once("dead-letters", () =>
      Promise.all(this.views.map(async (v) => ({ fn: v.name, ...(await this.sources.deadLetters.list(v.name).catch(() => ({ topic: "-", rows: [] }))) }))),
    );
  }

  topicRows(): Promise<TopicRow[]> {
    return this.once("topics", async () => {
      const topics = await this.sources.topics.list();
      return Promise.all(topics.map(async (info) => {
        const d = await this.sources.topics.describe(info.name).catch(() => undefined);
        return { info, messages: d?.offsets.reduce((a, o) => a + o.end - o.start, 0) ?? 0, groups: (d?.groups ?? []).map((g) => ({ group: g.group, lag: g.lag })) };
      }));
    });
  }

  /** Per group and partition; in seconds, the age of the next message the group will read. */
  async lagCells(topic: string): Promise<{ cells: LagCell[]; description: Awaited<ReturnType<DashboardSources["topics"]["describe"]>> }> {
    const description = await this.sources.topics.describe(topic);
    const now = Date.now();
    const cells: LagCell[] = [];
    for (const g of description.groups) {
      for (const p of g.partitions) {
        let lagSeconds: number | undefined = p.lag === 0 ? 0 : undefined;
        if (p.lag > 0) {
          const [next] = await this.sources.topics.read(topic, p.partition, p.committed, 1).catch(() => []);
          if (next !== undefined) lagSeconds = Math.max(0, (now - next.timestamp) / 1000);
        }
        cells.push({ group: g.group, partition: p.partition, committed: p.committed, end: p.end, lag: p.lag, lagSeconds });
      }
    }
    return { cells, description };
  }
}

/** The live regions of a view, as `[stream event, markup]`; pages render the same on first load. */
export async function regionsFor(spec: WatchSpec, d: TickData): Promise<[string, SafeHtml][]> {
  const rateOf = (fn: string) => d.series.window(fn, 10).invocations / 10;
  switch (spec.watch) {
    case "overview": {
      const [status, groups, warnings, nodes] = await Promise.all([
        d.once("status", () => d.sources.status()),
        d.deadLetters(),
        d.once("warnings", () => d.sources.warnings()),
        d.once("nodes", async () => (d.sources.nodes === undefined ? undefined : d.sources.nodes())),
      ]);
      const deadLetters = new Map(groups.map((g) => [g.fn, g.rows.length]));
      return [["snapshot", overviewRegion({ status, views: d.views, deadLetters, warnings, nodes }, d.series)]];
    }
    case "functions":
      return [["snapshot", functionsTable(d.views, d.series)]];
    case "function": {
      const name = spec.fn ?? "";
      const detail = await d.sources.functions.get(name);
      if (detail === undefined) throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `function '${name}' does not exist`, { hint: "see the Functions page", details: { field: "function" } });
      const records = d.sources.records === undefined ? undefined : await d.sources.records.list({ function: name, limit: RECORDS_SHOWN });
      return [["function", functionRegion(detail)], ["scaling", decisionsRegion(detail)], ["invocations", invocationsRegion(records)]];
    }
    case "topics":
      return [["snapshot", topicsTable(await d.topicRows())]];
    case "topic": {
      const { cells, description } = await d.lagCells(spec.topic ?? "");
      return [["snapshot", topicRegion(description, cells)]];
    }
    case "topology":
      return [["snapshot", topologySvg(d.views, rateOf)]];
    case "dead-letters":
      return [["snapshot", deadLettersRegion(await d.deadLetters())]];
    case "invokers":
      return [["snapshot", invokersTable(d.sources.invokers())]];
    case "system": {
      const [status, warnings] = await Promise.all([d.sources.status(), d.sources.warnings()]);
      return [["snapshot", systemRegion(status, warnings)]];
    }
  }
}
