import type { IncomingMessage, ServerResponse } from "node:http";
import { assertValidName, RiffError, toRiffError, type Logger } from "@riff/core";
import type { Broker, TopicConfig } from "@riff/broker";
import { readBody, sendError, sendJson } from "@riff/gateway";
import type { Deployments, SourceDocument } from "./deployments.js";
import type { FunctionLogs } from "./function-logs.js";
import type { InvokerRegistry } from "./invoker-registry.js";
import type { Scaler } from "./scaler.js";
import { reconcileTopic } from "./resource-apply.js";
import { checkBearer } from "./token.js";
import { DEFAULT_TAIL_COUNT, parseTailFrom, tailTopic } from "./topic-tail.js";

const PREFIX = "/api/v1/";
const MAX_ADMIN_BODY = 16 * 1024 * 1024;

/** What the admin API serves from. */
export interface AdminApiOptions {
  token: string;
  broker: Broker;
  deployments: Deployments;
  logs: FunctionLogs;
  logger: Logger;
  status: () => Record<string, unknown>;
  invokers: InvokerRegistry;
  scaler: Scaler;
  shutdown: () => void;
}

/**
 * Answers `{results}`; with `?progress=true`, streams NDJSON instead: `{progress: line}` while
 * builds run (npm install, javac), then `{results}` or `{error}`, so the CLI can show progress.
 */
async function withProgress(res: ServerResponse, query: URLSearchParams, work: (progress?: (line: string) => void) => Promise<unknown>): Promise<void> {
  if (query.get("progress") !== "true") {
    sendJson(res, 200, { results: await work() });
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  try {
    const results = await work((line) => res.write(`${JSON.stringify({ progress: line })}\n`));
    res.end(`${JSON.stringify({ results })}\n`);
  } catch (err) {
    res.end(`${JSON.stringify({ error: toRiffError(err).toJSON({ stack: true }) })}\n`);
  }
}

type Route = (req: IncomingMessage, res: ServerResponse, params: string[], query: URLSearchParams) => Promise<void>;

/**
 * The admin API under `/api/v1/`: JSON in and out, bearer token required. The CLI uses nothing
 * else to talk to the daemon.
 */
export function createAdminApi(o: AdminApiOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const json = async <T>(req: IncomingMessage): Promise<T> => {
    const body = await readBody(req, MAX_ADMIN_BODY);
    try {
      return JSON.parse(body.toString("utf8") || "{}") as T;
    } catch {
      throw new RiffError("RIFF_INVALID_ARGUMENT", "the request body is not valid JSON");
    }
  };

  const listFunctions = async () =>
    Promise.all(
      [...o.deployments.runners.values()].sort((a, b) => a.fn.name.localeCompare(b.fn.name)).map(async ({ fn, runner }) => {
        const snap = runner.snapshot();
        const lags = await Promise.all(fn.inputs.map((t) => o.broker.lag(t, fn.name).catch(() => undefined)));
        const partitionLag = lags.flatMap((l, i) => (l?.partitions ?? []).map((p) => ({ topic: fn.inputs[i], ...p })));
        const desired = o.scaler.desired(fn.name) ?? snap.replicas.length;
        return {
          ...fn,
          ...snap,
          desired,
          ready: snap.replicas.filter((r) => r.state === "ready").length,
          lag: partitionLag.reduce((sum, p) => sum + p.lag, 0),
          partitionLag,
        };
      }),
    );

  const routes: [string, RegExp, Route][] = [
    ["GET", /^status$/, async (_q, res) => sendJson(res, 200, o.status())],
    ["POST", /^apply$/, async (req, res, _p, query) => {
      const body = await json<{ documents?: SourceDocument[]; dryRun?: boolean }>(req);
      const documents = body.documents;
      if (!Array.isArray(documents)) throw new RiffError("RIFF_INVALID_ARGUMENT", "body.documents must be a list of {file, text}");
      await withProgress(res, query, (progress) => o.deployments.apply(documents, body.dryRun === true, progress));
    }],
    ["GET", /^invokers$/, async (_q, res) => sendJson(res, 200, { invokers: o.invokers.list() })],
    ["DELETE", /^invokers\/([^/]+)$/, async (_q, res, [name]) => {
      const users = [...o.deployments.runners.values()].filter(({ fn }) => fn.invoker === name).map(({ fn }) => fn.name);
      o.invokers.delete(name ?? "", users);
      sendJson(res, 200, { deleted: [`invoker/${name ?? ""}`] });
    }],
    ["GET", /^functions$/, async (_q, res) => sendJson(res, 200, { functions: await listFunctions() })],
    ["GET", /^functions\/([^/]+)$/, async (_q, res, [name]) => {
      o.deployments.require(name ?? "");
      const all = await listFunctions();
      const fn = all.find((f) => f.name === name);
      sendJson(res, 200, { ...fn, rates: o.scaler.rates(name ?? ""), decisions: o.scaler.decisions(name ?? "") });
    }],
    ["POST", /^functions\/([^/]+)\/update$/, async (_q, res, [name], query) => {
      await withProgress(res, query, (progress) => o.deployments.update(name ?? "", progress));
    }],
    ["DELETE", /^functions\/([^/]+)$/, async (_q, res, [name], query) => {
      const { deleted, kept } = await o.deployments.delete(name ?? "", query.get("all") === "true");
      o.scaler.forget(name ?? "");
      sendJson(res, 200, { deleted, kept });
    }],
    ["GET", /^functions\/([^/]+)\/logs$/, async (req, res, [name], query) => {
      const fn = name ?? "";
      o.deployments.require(fn);
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.write(o.logs.read(fn, Number(query.get("tail") ?? 200)));
      if (query.get("follow") !== "true") {
        res.end();
        return;
      }
      const off = o.logs.follow(fn, (text) => res.write(text));
      req.on("close", off);
    }],
    ["GET", /^graph$/, async (_q, res) => {
      const topics = (await o.broker.listTopics()).map((t) => t.name);
      const functions = [...o.deployments.runners.values()].map(({ fn, runner }) => ({ name: fn.name, inputs: fn.inputs, output: fn.output, status: runner.snapshot().status }));
      sendJson(res, 200, { topics, functions });
    }],
    ["GET", /^topics$/, async (_q, res) => sendJson(res, 200, { topics: await o.broker.listTopics() })],
    ["POST", /^topics$/, async (req, res) => {
      const body = await json<{ name?: string } & TopicConfig>(req);
      assertValidName(body.name, "topic name");
      const { partitions, retentionMs, retentionBytes, durability } = body;
      if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", `partitions must be a whole number of at least 1, not ${String(partitions)}`);
      }
      // Only what was asked for changes: a plain `riff topics create` of an existing topic is a no-op.
      const { topic, action } = await reconcileTopic(o.broker, body.name, { partitions, retentionMs, retentionBytes, durability });
      sendJson(res, action === "created" ? 201 : 200, { ...topic, action });
    }],
    ["GET", /^topics\/([^/]+)\/messages$/, async (req, res, [name], query) => {
      const topic = name ?? "";
      await o.broker.describeTopic(topic);
      const count = Number(query.get("count") ?? DEFAULT_TAIL_COUNT);
      const closed = new AbortController();
      // The response, not the request: a request's "close" can come as soon as its body is read.
      res.on("close", () => closed.abort());
      await tailTopic(o.broker, topic, { from: parseTailFrom(query.get("from")), count: Number.isFinite(count) ? count : DEFAULT_TAIL_COUNT, follow: query.get("follow") === "true" }, res, closed.signal);
    }],
    ["GET", /^topics\/([^/]+)$/, async (_q, res, [name]) => sendJson(res, 200, await o.broker.describeTopic(name ?? ""))],
    ["DELETE", /^topics\/([^/]+)$/, async (_q, res, [name]) => {
      const topic = name ?? "";
      const users = o.deployments.usedBy(topic);
      if (users.length > 0) {
        throw new RiffError("RIFF_TOPIC_IN_USE", `topic '${topic}' is used by function ${users.map((u) => `'${u}'`).join(", ")}`, {
          hint: users.length === 1
            ? `delete the function first (\`riff delete ${users[0] ?? ""}\`), or both with \`riff delete --all ${users[0] ?? ""}\``
            : `delete its functions first (${users.map((u) => `\`riff delete ${u}\``).join(", ")}), or give them other topics`,
        });
      }
      await o.broker.deleteTopic(topic);
      sendJson(res, 200, { deleted: [`topic/${topic}`] });
    }],
    ["POST", /^shutdown$/, async (_q, res) => {
      sendJson(res, 202, { stopping: true });
      o.shutdown();
    }],
  ];

  return (req, res) => {
    if (!(req.url ?? "/").startsWith(PREFIX)) return false;
    const url = new URL(req.url ?? "/", "http://riff");
    const path = url.pathname.slice(PREFIX.length);
    const run = async () => {
      if (!checkBearer(req.headers.authorization, o.token)) {
        throw new RiffError("RIFF_UNAUTHORIZED", "the admin API needs the bearer token", {
          hint: "the riff CLI reads it from the token file in the riff home; send it as 'Authorization: Bearer TOKEN'",
        });
      }
      const matching = routes.filter(([, re]) => re.test(path));
      if (matching.length === 0) throw new RiffError("RIFF_NOT_FOUND", `no admin endpoint ${url.pathname}`);
      const route = matching.find(([method]) => method === req.method);
      if (route === undefined) {
        res.setHeader("allow", matching.map(([m]) => m).join(", "));
        throw new RiffError("RIFF_METHOD_NOT_ALLOWED", `${req.method ?? "?"} is not allowed on ${url.pathname}`);
      }
      const params = (route[1].exec(path) ?? []).slice(1).map((p) => decodeURIComponent(p));
      await route[2](req, res, params, url.searchParams);
    };
    run().catch((err: unknown) => {
      if (!(err instanceof RiffError) || err.kind === "system") o.logger.error("admin request failed", { err: String(err), stack: (err as Error).stack });
      sendError(res, err, { stack: true });
    });
    return true;
  };
}
