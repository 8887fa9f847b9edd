import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { RiffError, type Logger } from "@riff/core";
import { createSqliteBroker, type Broker } from "@riff/broker";
import { createNatsBroker, type NatsBroker } from "@riff/broker-nats";
import { localViews } from "@riff/controller";
import { sendJson, type ReplyHub } from "@riff/gateway";
import { everyFunctionHere, homeStores } from "./controller-parts.js";
import { FunctionLogs } from "./function-logs.js";
import type { Mode } from "./mode.js";
import { natsAuth } from "./nats-auth.js";
import type { HomePaths, ResolvedDaemonOptions } from "./options.js";

/**
 * One daemon on its own: functions and invokers in its home, topics in the home's SQLite log or
 * on a NATS server under a prefix of the home's own, and its own autoscaler every
 * `scaleIntervalMs`.
 */
export async function localMode(o: { options: ResolvedDaemonOptions; paths: HomePaths; hub: ReplyHub; token: string; logger: Logger }): Promise<Mode> {
  const { options, paths, hub, logger } = o;
  const brokerLogger = logger.child({ component: "broker" });
  // The embedded log in the home, or NATS JetStream under a prefix of this home's own, so
  // two homes on one server never see (or delete) each other's topics.
  const nats: NatsBroker | undefined =
    options.broker === "embedded" ? undefined : createNatsBroker({ servers: options.broker, prefix: natsPrefix(options.home), logger: brokerLogger, auth: await natsAuth(options.nats) });
  const broker: Broker = nats ?? createSqliteBroker({ dir: paths.broker, logger: brokerLogger });
  await broker.start();
  const logs = new FunctionLogs(paths.logs);
  let timer: NodeJS.Timeout | undefined;
  let scaling = false;
  return {
    broker,
    stores: homeStores(paths),
    placing: everyFunctionHere,
    replies: { deliver: (to, outcome) => hub.deliver(to.correlationId, outcome) },
    logs,
    token: o.token,
    views: (parts) => localViews({ broker, catalog: parts.catalog, host: parts.host, scaler: parts.scaler }),
    logSource: () => ({ read: (fn, tail) => ({ text: logs.read(fn, tail) }), follow: (fn, listener) => logs.follow(fn, listener) }),
    routes: () => [
      ["GET", /^nodes$/, async () => {
        throw new RiffError("RIFF_INVALID_ARGUMENT", "this riff runs alone, not as a node of a cluster", {
          hint: "start riff with --cluster nats://a:4222,nats://b:4222,nats://c:4222 to join (or make) a cluster; see docs/cluster.md",
        });
      }],
    ],
    status: () => ({ broker: options.broker, ...(nats === undefined ? {} : { nats: nats.health() }) }),
    warnings() {
      const health = nats?.health();
      if (health === undefined || health.connected) return [];
      return [`NATS is unreachable since ${new Date(health.since).toISOString()}: publishing answers 503 meanwhile; riff reconnects by itself`];
    },
    healthz(_req, res) {
      const health = nats?.health();
      if (health !== undefined && !health.connected) {
        sendJson(res, 503, { status: "unavailable", pid: process.pid, reason: `NATS unreachable since ${new Date(health.since).toISOString()}` });
        return;
      }
      sendJson(res, 200, { status: "ok", pid: process.pid });
    },
    start(parts) {
      // A home's topics are where it was first started with them: a restart without --broker keeps them there.
      writeFileSync(paths.brokerChoice, `${options.broker}\n`);
      // --autoscaler off: replicas start only for a waiting message (0 -> 1) and are never scaled.
      if (!options.autoscaler) return;
      timer = setInterval(() => {
        if (scaling) return;
        scaling = true;
        const targets = parts.host.list().map(({ fn, runner }) => ({ fn, snapshot: runner.snapshot(), scaleTo: (n: number) => void runner.scaleTo(n) }));
        parts.scaler.tick(targets).finally(() => (scaling = false));
      }, options.scaleIntervalMs);
    },
    async stop() {
      clearInterval(timer);
      await broker.stop();
    },
  };
}

/** The NATS prefix of a riff home: `riff-` and 8 hex digits of its path's hash. */
export function natsPrefix(home: string): string {
  return `riff-${createHash("sha256").update(home).digest("hex").slice(0, 8)}`;
}
