import type { IncomingMessage } from "node:http";
import { RiffError } from "@riff/core";
import type { TopicConfig } from "@riff/broker";
import { readBody } from "@riff/gateway";
import type { SourceDocument } from "./documents.js";

/** @default 16 MiB: the largest admin request body (an apply of many YAML files). */
export const MAX_ADMIN_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The admin API's request bodies, checked at the edge: whatever JSON arrives (null, arrays,
 * nulls inside lists, numbers as strings), a wrong shape is a 400 naming the field, never a
 * TypeError deeper in that would read as a bug in riff.
 */

/** A 400 for one field of a body, naming it and what it must be. */
export function badField(field: string, must: string, value: unknown): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", `${field} must be ${must}, not ${describe(value)}`, {
    hint: "send the body the riff CLI sends (see docs/cli.md), or use the riff CLI",
    details: { field },
  });
}

/** Reads a JSON object body; an empty body is `{}`. */
export async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, MAX_ADMIN_BODY_BYTES)).toString("utf8");
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new RiffError("RIFF_INVALID_ARGUMENT", "the request body is not valid JSON", { details: { field: "body" } });
  }
  if (!isObject(value)) throw badField("body", "a JSON object", value);
  return value;
}

/** The body of `POST apply`: `{documents: [{file, text}], dryRun?}`. */
export function applyBody(body: Record<string, unknown>): { documents: SourceDocument[]; dryRun: boolean } {
  const { documents, dryRun } = body;
  if (!Array.isArray(documents)) throw badField("body.documents", "a list of {file, text}", documents);
  const checked = documents.map((doc: unknown, i) => {
    const at = `body.documents[${i}]`;
    if (!isObject(doc)) throw badField(at, "an object {file, text}", doc);
    if (typeof doc["file"] !== "string" || doc["file"] === "") throw badField(`${at}.file`, "the YAML file's path, a non-empty string", doc["file"]);
    if (typeof doc["text"] !== "string") throw badField(`${at}.text`, "the YAML text, a string", doc["text"]);
    return { file: doc["file"], text: doc["text"] };
  });
  if (dryRun !== undefined && typeof dryRun !== "boolean") throw badField("body.dryRun", "true or false", dryRun);
  return { documents: checked, dryRun: dryRun === true };
}

/** The body of `POST topics`: `{name, partitions?, retentionMs?, retentionBytes?, durability?, replicas?, rate?}` (rate null: none). */
export function topicBody(body: Record<string, unknown>): { name: unknown; rate: number | null | undefined } & TopicConfig {
  const whole = (field: string, min: number): number | undefined => {
    const value = body[field];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) throw badField(`body.${field}`, `a whole number of at least ${min}`, value);
    return value;
  };
  const partitions = whole("partitions", 1);
  const retentionMs = whole("retentionMs", 1);
  const retentionBytes = whole("retentionBytes", 1);
  const replicas = whole("replicas", 1);
  const { durability } = body;
  if (durability !== undefined && durability !== "process" && durability !== "fsync") throw badField("body.durability", "'process' or 'fsync'", durability);
  const config: TopicConfig = {};
  if (partitions !== undefined) config.partitions = partitions;
  if (retentionMs !== undefined) config.retentionMs = retentionMs;
  if (retentionBytes !== undefined) config.retentionBytes = retentionBytes;
  if (replicas !== undefined) config.replicas = replicas;
  if (durability !== undefined) config.durability = durability;
  const { rate } = body;
  if (rate !== undefined && rate !== null && (typeof rate !== "number" || !(rate > 0) || rate > 1_000_000)) {
    throw badField("body.rate", "publishes per second, a number above 0 and at most 1000000, or null for none", rate);
  }
  return { name: body["name"], rate, ...config };
}

/** A whole-number query parameter, or its default when absent. */
export function queryNumber(query: URLSearchParams, name: string, fallback: number, min: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isSafeInteger(n) || n < min) throw badField(`?${name}`, `a whole number of at least ${min}`, raw);
  return n;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A short, safe account of a wrong value for an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return `the string '${value.slice(0, 40)}'`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
