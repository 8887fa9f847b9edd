import { isValidName, RiffError } from "@riff/core";
import { sendJson } from "@riff/gateway";
import type { SecretStore, SecretSummary } from "@riff/controller";
import type { Route } from "./admin-api.js";
import { jsonBody } from "./admin-bodies.js";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `secrets` of the admin API: set (a whole secret at once), list (names and keys, never values)
 * and delete. Values go only into the environment of the replicas of functions that name the
 * secret; nothing riff shows or logs carries them.
 */
export function secretRoutes(store: SecretStore): Route[] {
  return [
    ["GET", /^secrets$/, async (_req, res) => {
      const list: SecretSummary[] = (await store.list()).map((s) => ({ name: s.name, keys: Object.keys(s.value.data).sort() }));
      sendJson(res, 200, { secrets: list.sort((a, b) => a.name.localeCompare(b.name)) });
    }],
    ["PUT", /^secrets\/([^/]+)$/, async (req, res, [name = ""]) => {
      if (!isValidName(name)) throw new RiffError("RIFF_INVALID_NAME", `secret name '${name}' is not a DNS-1123 label`, { hint: "lower-case letters, digits and '-', at most 63" });
      const data = (await jsonBody(req))["data"];
      if (data === null || typeof data !== "object" || Array.isArray(data) || Object.keys(data).length === 0) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", "data: must be an object of KEY: value, with at least one key", { hint: "riff secrets set NAME KEY=VALUE [KEY=VALUE ...]" });
      }
      for (const [k, v] of Object.entries(data)) {
        if (!KEY.test(k)) throw new RiffError("RIFF_INVALID_ARGUMENT", `data.${k}: a key must be an environment variable name (letters, digits, _)`);
        if (typeof v !== "string") throw new RiffError("RIFF_INVALID_ARGUMENT", `data.${k}: must be a string`);
      }
      const existing = await store.get(name);
      await store.put(name, { data: data as Record<string, string> }, existing?.revision ?? 0);
      sendJson(res, existing === undefined ? 201 : 200, { name, keys: Object.keys(data).sort(), action: existing === undefined ? "created" : "updated" });
    }],
    ["DELETE", /^secrets\/([^/]+)$/, async (_req, res, [name = ""]) => {
      if ((await store.get(name)) === undefined) throw new RiffError("RIFF_SECRET_NOT_FOUND", `no secret '${name}'`, { hint: "see them with `riff secrets list`" });
      await store.delete(name);
      sendJson(res, 200, { name, action: "deleted" });
    }],
  ];
}
