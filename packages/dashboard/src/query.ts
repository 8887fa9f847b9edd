import { RiffError } from "@riff/core";

/** A whole number from the query, within bounds; a bad one is a 400 that names the parameter. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `query parameter '${name}' must be a whole number from ${min} to ${max}, not '${raw.slice(0, 40)}'`, { details: { field: name } });
  }
  return n;
}

/** One of `allowed`, or a 400 naming the parameter. */
export function oneOf<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[], fallback?: T): T {
  const raw = query.get(name) ?? fallback;
  const found = allowed.find((a) => a === raw);
  if (found === undefined) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `query parameter '${name}' must be one of ${allowed.join(", ")}${raw === undefined ? "" : `, not '${raw.slice(0, 40)}'`}`, { details: { field: name } });
  }
  return found;
}

/** A time from a `datetime-local` field or an ISO string, as ms since the epoch. */
export function timeParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : `${raw}Z`);
  if (Number.isNaN(ms)) throw new RiffError("RIFF_INVALID_ARGUMENT", `query parameter '${name}' is not a time: '${raw.slice(0, 40)}'`, { hint: "use 2026-01-31T12:00:00 (UTC)", details: { field: name } });
  return ms;
}
