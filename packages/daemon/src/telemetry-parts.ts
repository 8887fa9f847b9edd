import { TokenBuckets, type Logger, type TelemetryHub } from "@riff/core";
import type { Broker } from "@riff/broker";
import type { ResolvedDaemonOptions } from "./options.js";
import { RecordStore } from "./record-store.js";

/** What the daemon's telemetry feeds besides the live views: the record store and the OTLP export. */
export interface TelemetryParts {
  /** Undefined when records are off (`--records-max 0`). */
  records: RecordStore | undefined;
  /** Whether a new trace is sampled: at most `--records-rate` a second; undefined: every one. */
  sample: (() => boolean) | undefined;
  /** Writes and sends what is pending. */
  stop(): Promise<void>;
}

/** Starts the sinks the options ask for and subscribes them to `hub`. */
export async function startTelemetry(o: { broker: Broker; options: ResolvedDaemonOptions; hub: TelemetryHub; node: string | undefined; version: string; logger: Logger }): Promise<TelemetryParts> {
  const { records: bounds, otlpEndpoint } = o.options;
  let records: RecordStore | undefined;
  if (bounds !== undefined) {
    records = new RecordStore(o.broker, { ...bounds, logger: o.logger.child({ component: "records" }) });
    await records.start();
    o.hub.subscribe(records.sink());
  }
  // Loaded only when asked for: the OpenTelemetry SDK costs start-up time nobody else should pay.
  const otlp = otlpEndpoint === undefined ? undefined : new (await import("./otlp-export.js")).OtlpExport(otlpEndpoint, { node: o.node, version: o.version, logger: o.logger.child({ component: "otlp" }) });
  if (otlp !== undefined) o.hub.subscribe(otlp.sink());
  const rate = bounds?.rate ?? 0;
  const buckets = new TokenBuckets();
  return {
    records,
    sample: rate === 0 ? undefined : () => buckets.take("traces", rate, Date.now()) === undefined,
    async stop() {
      await Promise.all([records?.stop(), otlp?.stop()]);
    },
  };
}
