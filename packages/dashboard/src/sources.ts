import type { DeadLetterRow, LogHistory, NodeRow, RecordReader, RedriveResult, TelemetrySink } from "@riff/core";
import type { GroupLag, PartitionOffsets, StoredMessage, TopicDescription, TopicInfo } from "@riff/broker";
import type { FunctionDetail, FunctionView, InvokerSummary } from "@riff/controller";

/**
 * Everything the dashboard reads and does, as narrow as it needs. The daemon adapts the very
 * objects its admin API serves from (FunctionViews, the broker, the log source, the dead-letter
 * boxes), so `riff list` and the dashboard cannot disagree.
 */
export interface DashboardSources {
  /** The rows of `riff list -o json`, and `riff describe` with its scaling decisions. */
  functions: {
    list(): Promise<FunctionView[]>;
    get(name: string): Promise<FunctionDetail | undefined>;
  };
  topics: {
    list(): Promise<TopicInfo[]>;
    describe(name: string): Promise<TopicDescription>;
    lag(topic: string, group: string): Promise<GroupLag>;
    endOffsets(topic: string): Promise<PartitionOffsets[]>;
    read(topic: string, partition: number, from: number, limit: number): Promise<StoredMessage[]>;
    offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]>;
  };
  logs: {
    read(fn: string, tail: number): LogHistory | Promise<LogHistory>;
    follow(fn: string, listener: (text: string) => void): () => void;
  };
  deadLetters: {
    list(fn: string): Promise<{ topic: string; rows: DeadLetterRow[] }>;
    get(fn: string, partition: number, offset: number): Promise<StoredMessage>;
    redrive(fn: string): Promise<RedriveResult>;
    purge(fn: string): Promise<number>;
  };
  invokers(): InvokerSummary[];
  /** What `riff system status` shows. */
  status(): Promise<Record<string, unknown>>;
  /** What needs the user now (NATS away, ...), as `riff list` warns. */
  warnings(): Promise<string[]>;
  /** The cluster's nodes; absent on a single daemon. */
  nodes?: () => NodeRow[] | Promise<NodeRow[]>;
  telemetry: { subscribe(sink: Partial<TelemetrySink>): () => void };
  /** Invocation records and traces, once the daemon keeps them. */
  records?: RecordReader | undefined;
}
