import { isValidName, RiffError } from "@riff/core";
import { sendJson } from "@riff/gateway";
import { newApiKey, type ApiKeyStore } from "@riff/controller";
import type { Route } from "./admin-api.js";
import { jsonBody } from "./admin-bodies.js";

/**
 * `keys` of the admin API: create (the key is in the answer, once: only its hash is kept), list
 * (ids, topics and rates) and delete. From the first key on, the gateway wants one.
 */
export function keyRoutes(store: ApiKeyStore): Route[] {
  return [
    ["GET", /^keys$/, async (_req, res) => {
      const keys = (await store.list()).map((k) => ({ id: k.name, topics: k.value.topics, rate: k.value.rate ?? null, createdAt: k.value.createdAt }));
      sendJson(res, 200, { keys: keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt)) });
    }],
    ["POST", /^keys$/, async (req, res) => {
      const body = await jsonBody(req);
      const topics = body?.topics;
      if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === "string" && isValidName(t))) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", "topics: must be a list of one or more topic names", { hint: "riff keys create --topic orders [--topic more]" });
      }
      const rate = body?.rate;
      if (rate !== undefined && rate !== null && !(typeof rate === "number" && Number.isFinite(rate) && rate > 0 && rate <= 1_000_000)) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", "rate: must be a number of requests per second above 0", { hint: "riff keys create --topic orders --rate 100" });
      }
      const made = newApiKey(topics as string[], typeof rate === "number" ? rate : undefined);
      await store.put(made.id, made.record, 0);
      sendJson(res, 201, { id: made.id, key: made.key, topics, rate: made.record.rate ?? null });
    }],
    ["DELETE", /^keys\/([^/]+)$/, async (_req, res, [id = ""]) => {
      if ((await store.get(id)) === undefined) throw new RiffError("RIFF_NOT_FOUND", `no API key '${id}'`, { hint: "see them with `riff keys list`" });
      await store.delete(id);
      sendJson(res, 200, { id, action: "deleted" });
    }],
  ];
}
