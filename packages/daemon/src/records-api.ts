import { assertValidName, newSpanId, newTraceId, RiffError, traceparentOf, type InvocationRecord, type InvocationStatus, type RecordFilter, type RecordReader, type Span } from "@riff/core";
import type { Broker } from "@riff/broker";
import { functionNotFound } from "@riff/controller";
import { sendJson } from "@riff/gateway";
import type { Route } from "./admin-api.js";
import { DEFAULT_RECORDS_LIMIT, MAX_RECORDS_LIMIT } from "./record-store.js";

const STATUSES: readonly InvocationStatus[] = ["success", "error", "timeout"];
const SPAN_ID = /^[0-9a-f]{16}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;

/**
 * The admin routes of invocation records and traces: `invocations` (list), `invocations/ID`
 * (one, with a failed run's input), `invocations/ID/rerun` (publish that input again), and
 * `traces/ID` (every span of a trace; an invocation's id finds its trace too).
 */
export function recordRoutes(records: RecordReader | undefined, broker: Broker, functionExists: (name: string) => boolean): Route[] {
  const store = (): RecordReader => {
    if (records !== undefined) return records;
    throw new RiffError("RIFF_RECORDS_OFF", "invocation records are off on this daemon", {
      hint: "start riff with --records-max N (N > 0) to keep them: riff system stop && riff system start --records-max 10000",
    });
  };
  const invocation = async (id: string | undefined): Promise<InvocationRecord> => {
    const span = SPAN_ID.test(id ?? "") ? await store().get(id ?? "") : undefined;
    if (span?.kind === "invocation") return span;
    throw new RiffError("RIFF_RECORD_NOT_FOUND", `no invocation record '${id ?? ""}' is kept`, {
      hint: "ids are 16 hex digits, as `riff invocations NAME` lists them; old records go by count and age (--records-max, --records-max-age)",
    });
  };
  return [
    ["GET", /^invocations$/, async (_q, res, _p, query) => {
      const filter = recordFilter(query);
      // Lists stay light: a failed run's input is in the single record.
      const invocations = (await store().list(filter)).map(({ payload: _, ...rest }) => rest);
      // A deleted function's records are still listed; a name that has neither is a typo to point out.
      if (invocations.length === 0 && filter.function !== undefined && !functionExists(filter.function)) throw functionNotFound(filter.function);
      sendJson(res, 200, { invocations });
    }],
    ["GET", /^invocations\/([^/]+)$/, async (_q, res, [id]) => {
      sendJson(res, 200, { invocation: await invocation(id) });
    }],
    ["POST", /^invocations\/([^/]+)\/rerun$/, async (_q, res, [id]) => {
      const record = await invocation(id);
      if (record.payload === undefined) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", `invocation ${record.id} did not fail, so its input was not kept`, {
          hint: "only failed invocations keep their input; publish the message again with `riff publish`",
        });
      }
      if (record.payload.truncated) {
        throw new RiffError("RIFF_INVALID_ARGUMENT", `invocation ${record.id} kept only the first ${Buffer.from(record.payload.base64, "base64").byteLength} bytes of its input`, {
          hint: "a truncated input cannot run again as it was; find the whole message with `riff topics tail` at its offset",
        });
      }
      // A run of its own, in a new trace; the header says which invocation it repeats.
      const position = await broker.publish(record.topic, {
        headers: {
          "content-type": [record.payload.contentType],
          traceparent: [traceparentOf(newTraceId(), newSpanId())],
          "x-riff-rerun-of": [record.id],
        },
        payload: Buffer.from(record.payload.base64, "base64"),
        ...(record.key !== undefined ? { key: record.key } : {}),
      });
      sendJson(res, 200, { invocation: record.id, ...position });
    }],
    ["GET", /^traces\/([^/]+)$/, async (_q, res, [id]) => {
      sendJson(res, 200, await traceOf(store(), id ?? ""));
    }],
  ];
}

/** A trace by its id, or by the id of one of its spans. */
async function traceOf(records: RecordReader, id: string): Promise<{ traceId: string; spans: Span[] }> {
  let traceId = TRACE_ID.test(id) ? id : undefined;
  if (traceId === undefined && SPAN_ID.test(id)) traceId = (await records.get(id))?.traceId;
  const spans = traceId === undefined ? [] : await records.trace(traceId);
  if (traceId === undefined || spans.length === 0) {
    throw new RiffError("RIFF_RECORD_NOT_FOUND", `no trace '${id}' is kept`, {
      hint: "give a trace id (32 hex digits) or an invocation id (16), as `riff invocations NAME -o wide` shows them; a trace is kept only if it was sampled (a caller's traceparent ending in -00 asks for none; past --records-rate new traces are sampled out) and until --records-max newer records push it out",
    });
  }
  return { traceId, spans };
}

/** `?function=&status=&limit=&before=`, each checked, naming the parameter at fault. */
function recordFilter(query: URLSearchParams): RecordFilter {
  const fn = query.get("function") ?? undefined;
  if (fn !== undefined) assertValidName(fn, "function");
  const status = query.get("status") ?? undefined;
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `status must be one of ${STATUSES.join(", ")}, not '${status.slice(0, 40)}'`, {
      hint: "e.g. riff invocations square --status error",
      details: { field: "status" },
    });
  }
  const limitText = query.get("limit");
  const limit = limitText === null ? DEFAULT_RECORDS_LIMIT : Number(limitText);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_RECORDS_LIMIT)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `limit must be a whole number from 1 to ${MAX_RECORDS_LIMIT}, not '${(limitText ?? "").slice(0, 40)}'`, {
      hint: "e.g. riff invocations square --limit 100",
      details: { field: "limit" },
    });
  }
  const beforeText = query.get("before");
  const before = beforeText === null ? undefined : /^\d+$/.test(beforeText) ? Number(beforeText) : Date.parse(beforeText);
  if (before !== undefined && !Number.isFinite(before)) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `before must be a time (ms since the epoch, or ISO 8601), not '${(beforeText ?? "").slice(0, 40)}'`, {
      hint: "e.g. ?before=2026-12-07T10:00:00Z",
      details: { field: "before" },
    });
  }
  return { function: fn, status: status as InvocationStatus | undefined, limit, before };
}
