import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { assertValidName, LOGS_UNANSWERED_HEADER, RiffError, toRiffError, type LogHistory, type Logger } from "@riff/core";
import type { Broker, TopicInfo } from "@riff/broker";
import { functionNotFound, reconcileTopic, type ApplyResult, type Deployer, type FunctionCatalog, type InvokerRegistry, type Scaler, type TopicRates } from "@riff/controller";
import { electionLike, notAnswered } from "@riff/broker-nats";
import { sendError, sendJson } from "@riff/gateway";
import { applyBody, jsonBody, queryNumber, topicBody } from "./admin-bodies.js";
import { resolveDocuments, withNotes, type DocumentResult } from "./documents.js";
import { createHostCheck } from "./host-check.js";
import { checkBearer } from "./token.js";
import { DEFAULT_TAIL_COUNT, parseTailFrom, tailTopic } from "./topic-tail.js";
import type { FunctionViews } from "@riff/controller";
import { checkTopicDeletable, deadLetterRoutes } from "./dead-letter-api.js";

const PREFIX = "/api/v1/";

/** Functions' logs: this daemon's files, or every node's in a cluster. */
export interface LogSource {
  /** The last `tail` lines; in a cluster, from every node, and which nodes did not answer. */
  read(fn: string, tail: number): LogHistory | Promise<LogHistory>;
  /** Calls `listener` with each new line; returns the unsubscribe function. */
  follow(fn: string, listener: (text: string) => void): () => void;
}

/** What the admin API serves from. */
export interface AdminApiOptions {
  token: string;
  /** The address the daemon listens on: with loopback names, what `Host` may say. */
  host: string;
  /** riff's home: no function's artifact may be in it (or hold it). */
  home: string;
  broker: Broker;
  deployer: Deployer;
  catalog: FunctionCatalog;
  views: FunctionViews;
  logs: LogSource;
  logger: Logger;
  status: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  invokers: InvokerRegistry;
  scaler: Scaler;
  /** The topics' rates (`riff topics create --rate`). */
  rates: TopicRates;
  shutdown: () => void;
  /** Extra routes of a mode (the cluster's `nodes`). */
  routes?: Route[];
  /** What is wrong now, for `riff list` to say (NATS unreachable). */
  /** Said with `riff list`: what needs the user (NATS away, topics whose record was lost). */
  warnings?: () => Promise<string[]>;
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

/** One admin endpoint: method, path pattern (after `/api/v1/`), handler. */
export type Route = [string, RegExp, (req: IncomingMessage, res: ServerResponse, params: string[], query: URLSearchParams) => Promise<void>];

/**
 * The admin API under `/api/v1/`: JSON in and out, bearer token required. The CLI uses nothing
 * else to talk to the daemon.
 */
export function createAdminApi(o: AdminApiOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const checkHost = createHostCheck(o.host);
  const requireFunction = (name: string) => {
    const fn = o.catalog.get(name)?.value;
    if (fn === undefined) throw functionNotFound(name);
    return fn;
  };

  /** Re-reads a function's YAML and artifact, and rolls out a new revision if they changed. */
  const update = async (name: string, progress?: (line: string) => void): Promise<DocumentResult[]> => {
    const fn = requireFunction(name);
    if (fn.source === undefined) return o.deployer.apply({ topics: [], invokers: [], functions: [fn] }, false, progress);
    let text: string;
    try {
      text = readFileSync(fn.source, "utf8");
    } catch {
      throw new RiffError("RIFF_ARTIFACT_NOT_FOUND", `cannot read ${fn.source}, the file function '${name}' was created from`, {
        hint: "restore the file, or apply a new one with `riff apply -f FILE`",
      });
    }
    const resolved = resolveDocuments([{ file: fn.source, text }], o.invokers, o.home);
    const results = await o.deployer.apply(resolved.resources, false, progress);
    if (!results.some((r) => r.kind === "Function" && r.name === name)) {
      throw new RiffError("RIFF_FUNCTION_NOT_FOUND", `${fn.source} no longer declares function '${name}'`);
    }
    return withNotes(results, resolved);
  };

  const routes: Route[] = [
    ["GET", /^status$/, async (_q, res) => sendJson(res, 200, await o.status())],
    ["POST", /^apply$/, async (req, res, _p, query) => {
      const { documents, dryRun } = applyBody(await jsonBody(req));
      const resolved = resolveDocuments(documents, o.invokers, o.home);
      await withProgress(res, query, async (progress) => withNotes(await o.deployer.apply(resolved.resources, dryRun, progress), resolved));
    }],
    ["GET", /^invokers$/, async (_q, res) => sendJson(res, 200, { invokers: o.invokers.list() })],
    ["DELETE", /^invokers\/([^/]+)$/, async (_q, res, [name]) => {
      // In the order they were made, as they were deployed.
      const users = o.catalog.list().filter((fn) => fn.invoker === name).sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((fn) => fn.name);
      await o.invokers.delete(name ?? "", users);
      sendJson(res, 200, { deleted: [`invoker/${name ?? ""}`] });
    }],
    ["GET", /^functions$/, async (_q, res) => sendJson(res, 200, { functions: await o.views.list(), warnings: (await o.warnings?.()) ?? [] })],
    ["GET", /^functions\/([^/]+)$/, async (_q, res, [name]) => {
      const detail = await o.views.get(name ?? "");
      if (detail === undefined) throw functionNotFound(name ?? "");
      // As `riff list` does: what makes the detail partial (NATS away: no leader to ask) is said.
      const warnings = (await o.warnings?.()) ?? [];
      sendJson(res, 200, warnings.length === 0 ? detail : { ...detail, warnings });
    }],
    ["POST", /^functions\/([^/]+)\/update$/, async (_q, res, [name], query) => {
      await withProgress(res, query, (progress) => update(name ?? "", progress));
    }],
    ["GET", /^functions\/([^/]+)\/revisions$/, async (_q, res, [name]) => {
      const revisions = await o.deployer.revisions(name ?? "");
      sendJson(res, 200, { revisions: revisions.map((r) => ({ revision: r.revision, updatedAt: r.updatedAt, digest: r.digest, invoker: r.invoker, handler: r.handler, artifact: r.artifact })) });
    }],
    ["POST", /^functions\/([^/]+)\/rollback$/, async (req, res, [name], query) => {
      const { to } = await jsonBody(req);
      if (to !== undefined && !(typeof to === "number" && Number.isInteger(to) && to >= 1)) {
        throw new RiffError("RIFF_BAD_REQUEST", "body.to: must be a revision number (a whole number from 1)");
      }
      await withProgress(res, query, async (progress) => [await o.deployer.rollback(name ?? "", to, progress)]);
    }],
    ["DELETE", /^functions\/([^/]+)$/, async (_q, res, [name], query) => {
      const { deleted, kept } = await o.deployer.delete(name ?? "", query.get("all") === "true");
      o.scaler.forget(name ?? "");
      sendJson(res, 200, { deleted, kept });
    }],
    ["GET", /^functions\/([^/]+)\/logs$/, async (req, res, [name], query) => {
      const fn = name ?? "";
      requireFunction(fn);
      const history = await o.logs.read(fn, queryNumber(query, "tail", 200, 0));
      // A header, not a line: the body stays the log, for scripts that read it.
      const unanswered = history.unanswered ?? [];
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", ...(unanswered.length > 0 ? { [LOGS_UNANSWERED_HEADER]: unanswered.join(",") } : {}) });
      res.write(history.text);
      if (query.get("follow") !== "true") {
        res.end();
        return;
      }
      const off = o.logs.follow(fn, (text) => res.write(text));
      req.on("close", off);
    }],
    ["GET", /^graph$/, async (_q, res) => {
      const topics = (await o.broker.listTopics()).map((t) => t.name);
      const functions = (await o.views.list()).map((f) => ({ name: f.name, inputs: f.inputs, output: f.output, status: f.status }));
      sendJson(res, 200, { topics, functions });
    }],
    ["GET", /^topics$/, async (_q, res) => sendJson(res, 200, { topics: await o.broker.listTopics() })],
    ["POST", /^topics$/, async (req, res) => {
      const { name, ...config } = topicBody(await jsonBody(req));
      assertValidName(name, "topic name");
      // Only what was asked for changes: a plain `riff topics create` of an existing topic is a no-op.
      const { topic, action } = await reconcileTopic(o.broker, name, config, o.rates);
      sendJson(res, action === "created" ? 201 : 200, { ...topic, action });
    }],
    ["GET", /^topics\/([^/]+)\/messages$/, async (req, res, [name], query) => {
      const topic = name ?? "";
      await o.broker.describeTopic(topic);
      const count = queryNumber(query, "count", DEFAULT_TAIL_COUNT, 0);
      const closed = new AbortController();
      // The response, not the request: a request's "close" can come as soon as its body is read.
      res.on("close", () => closed.abort());
      await tailTopic(o.broker, topic, { from: parseTailFrom(query.get("from")), count, follow: query.get("follow") === "true" }, res, closed.signal);
    }],
    ["GET", /^topics\/([^/]+)$/, async (_q, res, [name]) => {
      const rate = o.rates.rateOf(name ?? "");
      sendJson(res, 200, { ...(await o.broker.describeTopic(name ?? "")), ...(rate === undefined ? {} : { rate }) });
    }],
    ["POST", /^topics\/([^/]+)\/recover$/, async (_q, res, [name]) => sendJson(res, 200, await recovering(o.broker).recoverTopic(name ?? ""))],
    // Every topic whose record was lost, in one go (`riff topics recover --all`).
    ["POST", /^topics\/recover$/, async (_q, res) => {
      const broker = recovering(o.broker);
      const recovered: TopicInfo[] = [];
      for (const t of await broker.unrecordedTopics()) recovered.push(await broker.recoverTopic(t.name));
      sendJson(res, 200, { recovered });
    }],
    ["DELETE", /^topics\/([^/]+)$/, async (_q, res, [name], query) => {
      const topic = name ?? "";
      checkTopicDeletable(topic, o.catalog);
      const users = o.catalog.usedBy(topic);
      if (users.length > 0 && query.get("force") !== "true") {
        throw new RiffError("RIFF_TOPIC_IN_USE", `topic '${topic}' is used by function ${users.map((u) => `'${u}'`).join(", ")}`, {
          hint: users.length === 1
            ? `delete the function first (\`riff delete ${users[0] ?? ""}\`), or both with \`riff delete --all ${users[0] ?? ""}\`; --force deletes the topic anyway`
            : `delete its functions first (${users.map((u) => `\`riff delete ${u}\``).join(", ")}), or give them other topics; --force deletes the topic anyway`,
        });
      }
      await o.broker.deleteTopic(topic);
      await o.rates.set(topic, null);
      sendJson(res, 200, { deleted: [`topic/${topic}`] });
    }],
    ["POST", /^shutdown$/, async (_q, res) => {
      sendJson(res, 202, { stopping: true });
      o.shutdown();
    }],
    ...deadLetterRoutes(o.broker, o.catalog),
    ...(o.routes ?? []),
  ];

  return (req, res) => {
    if (!(req.url ?? "/").startsWith(PREFIX)) return false;
    const url = new URL(req.url ?? "/", "http://riff");
    const path = url.pathname.slice(PREFIX.length);
    const run = async () => {
      checkHost(req.headers.host);
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
      const params = (route[1].exec(path) ?? []).slice(1).map(decodePathPart);
      await route[2](req, res, params, url.searchParams);
    };
    run().catch((caught: unknown) => {
      // A JetStream call no one answered (a leader election after a server loss) passes: a
      // 503 to retry, not riff's failure with a stack.
      const err = !(caught instanceof RiffError) && electionLike(caught) ? notAnswered(`${req.method ?? ""} ${url.pathname}`, caught) : caught;
      if (!(err instanceof RiffError) || err.kind === "system") o.logger.error("admin request failed", { err: String(err), stack: (err as Error).stack });
      sendError(res, err, { stack: true });
    });
    return true;
  };
}

/** A name from the path; a malformed escape (`%E0%A4`) is the caller's mistake, not a crash. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `'${part.slice(0, 80)}' in the path is not valid percent-encoding`, {
      hint: "names are lower-case letters, digits and '-', which need no escaping",
      details: { field: "path" },
    });
  }
}

/** The broker's recovery calls; the embedded broker has none (its topic file holds both). */
function recovering(broker: Broker): Required<Pick<Broker, "recoverTopic" | "unrecordedTopics">> {
  const { recoverTopic, unrecordedTopics } = broker;
  if (recoverTopic === undefined || unrecordedTopics === undefined) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "the embedded broker keeps no record apart from its topics: there is nothing to recover", {
      hint: "`riff topics recover` is for topics on NATS whose record was lost (RIFF_TOPIC_UNRECORDED)",
    });
  }
  return { recoverTopic: recoverTopic.bind(broker), unrecordedTopics: unrecordedTopics.bind(broker) };
}
