import { DEAD_LETTER_TOPIC, deadLetterTopicOf, DEAD_LETTER_SUFFIX, RECORDS_TOPIC, RiffError } from "@riff/core";
import type { Broker } from "@riff/broker";
import { functionNotFound, type FunctionCatalog } from "@riff/controller";
import { sendJson } from "@riff/gateway";
import type { Route } from "./admin-api.js";
import { jsonBody } from "./admin-bodies.js";
import { DeadLetterBox } from "./dead-letter-box.js";
import { messageJson } from "./topic-tail.js";

/**
 * The dead letters of function NAME, for `riff dead-letters`: its topic named by its spec, or,
 * once the function is deleted, `<name>-dead-letters` while that topic is kept.
 */
export async function boxOf(broker: Broker, catalog: FunctionCatalog, name: string): Promise<DeadLetterBox> {
  const fn = catalog.get(name)?.value;
  if (fn !== undefined) return new DeadLetterBox(broker, deadLetterTopicOf(fn), name);
  const kept = `${name}${DEAD_LETTER_SUFFIX}`;
  if ((await broker.getTopic(kept)) !== undefined) return new DeadLetterBox(broker, kept, name);
  throw functionNotFound(name);
}

/** The admin routes under `functions/NAME/dead-letters`. */
export function deadLetterRoutes(broker: Broker, catalog: FunctionCatalog): Route[] {
  const box = (name: string | undefined) => boxOf(broker, catalog, name ?? "");
  return [
    ["GET", /^functions\/([^/]+)\/dead-letters$/, async (_q, res, [name]) => {
      const b = await box(name);
      sendJson(res, 200, { function: b.fn, topic: b.topic, deadLetters: await b.list() });
    }],
    ["GET", /^functions\/([^/]+)\/dead-letters\/(\d+)\/(\d+)$/, async (_q, res, [name, partition, offset]) => {
      sendJson(res, 200, messageJson(await (await box(name)).get(Number(partition), Number(offset))));
    }],
    ["POST", /^functions\/([^/]+)\/dead-letters\/redrive$/, async (req, res, [name]) => {
      const { to } = await jsonBody(req);
      if (to !== undefined && typeof to !== "string") throw new RiffError("RIFF_INVALID_ARGUMENT", "body.to must be a topic name");
      const b = await box(name);
      sendJson(res, 200, { function: b.fn, topic: b.topic, ...(await b.redrive(to)) });
    }],
    ["POST", /^functions\/([^/]+)\/dead-letters\/purge$/, async (_q, res, [name]) => {
      const b = await box(name);
      sendJson(res, 200, { function: b.fn, topic: b.topic, purged: await b.purge() });
    }],
  ];
}

/**
 * Refuses to delete a dead-letter topic: `riff-dead-letters` ever, a function's while the
 * function exists (its failures would have nowhere to go). No `--force` passes this.
 */
export function checkTopicDeletable(topic: string, catalog: FunctionCatalog): void {
  if (topic === RECORDS_TOPIC) {
    throw new RiffError("RIFF_TOPIC_PROTECTED", `topic '${topic}' holds riff's invocation records; it cannot be deleted`, {
      hint: "it is bounded by count and age (riff system start --records-max, --records-max-age); --records-max 0 keeps none",
    });
  }
  if (topic === DEAD_LETTER_TOPIC) {
    throw new RiffError("RIFF_TOPIC_PROTECTED", `topic '${topic}' holds what riff could not deliver and belongs to no function; it cannot be deleted`, {
      hint: "it empties with retention; a function's dead letters are in its own topic: `riff dead-letters purge NAME`",
    });
  }
  const owners = catalog.deadLettering(topic);
  if (owners.length > 0) {
    throw new RiffError("RIFF_TOPIC_PROTECTED", `topic '${topic}' is the dead-letter topic of function ${owners.map((o) => `'${o}'`).join(", ")}`, {
      hint: `empty it with \`riff dead-letters purge ${owners[0] ?? ""}\`; it can be deleted once its function is (\`riff delete --all ${owners[0] ?? ""}\` deletes both)`,
    });
  }
}
