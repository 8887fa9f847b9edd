import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { RiffError, parseDuration } from "@riff/core";
import type { Broker, StoredMessage } from "@riff/broker";

/** Where `riff topics tail` starts. */
export type TailFrom =
  | { kind: "end" }
  | { kind: "beginning" }
  | { kind: "offset"; partition: number; offset: number }
  | { kind: "since"; timestamp: number };

/** @default 10: messages `riff topics tail` prints per partition without -n. */
export const DEFAULT_TAIL_COUNT = 10;
const PAGE = 256;
/**
 * @default 2 s: how often a followed topic is looked up, so that a follower learns it was
 * deleted (no append will ever come) rather than waiting for ever. The lookup is the broker's
 * cache of open topics, which a delete on another cluster node reaches too.
 */
export const TAIL_TOPIC_CHECK_MS = 2000;

/** The oldest message at the heads of the cursors (by time, then partition), taken; fills empty pages. */
async function nextOldest(broker: Broker, topic: string, cursors: Cursor[]): Promise<StoredMessage | undefined> {
  let best: Cursor | undefined;
  for (const c of cursors) {
    if (c.left <= 0) continue;
    if (c.at >= c.page.length && c.from < c.end) {
      c.page = await broker.read(topic, c.partition, c.from, Math.min(PAGE, c.left, c.end - c.from));
      c.at = 0;
      c.from = (c.page.at(-1)?.offset ?? c.end - 1) + 1;
    }
    const head = c.page[c.at];
    if (head === undefined) continue;
    const top = best?.page[best.at];
    if (top === undefined || head.timestamp < top.timestamp) best = c;
  }
  if (best === undefined) return undefined;
  best.left--;
  return best.page[best.at++];
}

/** Parses the `from` query parameter: `end`, `beginning`, `P:O`, or `since:10m`. */
export function parseTailFrom(value: string | null, now = Date.now()): TailFrom {
  if (value === null || value === "" || value === "end") return { kind: "end" };
  if (value === "beginning") return { kind: "beginning" };
  if (value.startsWith("since:")) return { kind: "since", timestamp: now - parseDuration(value.slice(6), "--since") };
  const m = /^(\d+):(\d+)$/.exec(value);
  if (m) return { kind: "offset", partition: Number(m[1]), offset: Number(m[2]) };
  throw new RiffError("RIFF_INVALID_ARGUMENT", `'${value}' is not a starting point`, {
    hint: "use --from-beginning, --from-offset PARTITION:OFFSET (e.g. 0:42) or --since 10m",
  });
}

/** One message as JSON: the payload as text when it is UTF-8, else base64. */
export function messageJson(m: StoredMessage): Record<string, unknown> {
  const buf = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
  const text = buf.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(buf);
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key ?? null,
    headers: m.headers,
    payload: isText ? text : buf.toString("base64"),
    encoding: isText ? "utf8" : "base64",
  };
}

/** One partition's place in the history part of a tail. */
interface Cursor {
  partition: number;
  from: number;
  end: number;
  /** Messages this partition may still print. */
  left: number;
  page: StoredMessage[];
  at: number;
}

/**
 * Streams a topic's messages as NDJSON: history from `from` (at most `count` per partition),
 * oldest first across partitions, then, with `follow`, each new message as it is written, until
 * the client goes away. History is read a page per partition at a time and written at the
 * pace the client reads it, so a tail of a large topic holds little memory.
 */
export async function tailTopic(
  broker: Broker,
  topic: string,
  o: { from: TailFrom; count: number; follow: boolean },
  res: ServerResponse,
  closed: AbortSignal,
): Promise<void> {
  const offsets = await broker.endOffsets(topic);
  const from = o.from;
  if (from.kind === "offset" && from.partition >= offsets.length) {
    throw new RiffError("RIFF_INVALID_ARGUMENT", `topic '${topic}' has no partition ${from.partition}: it has ${offsets.length} (numbered from 0)`, {
      hint: `see its partitions with \`riff topics describe ${topic}\``,
    });
  }
  const since = from.kind === "since" ? await broker.offsetsForTimestamp(topic, from.timestamp) : undefined;
  const next = new Map<number, number>();
  const cursors: Cursor[] = [];
  for (const { partition, start, end } of offsets) {
    next.set(partition, end);
    if (from.kind === "offset" && from.partition !== partition) continue;
    let first = start;
    if (from.kind === "end") first = Math.max(start, end - o.count);
    if (from.kind === "offset") first = Math.max(start, from.offset);
    if (since !== undefined) first = Math.max(start, since[partition] ?? end);
    cursors.push({ partition, from: first, end, left: o.count, page: [], at: 0 });
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  /** Writes a line at the pace the client reads; rejects once the client is gone. */
  const write = async (m: StoredMessage): Promise<void> => {
    if (!res.write(`${JSON.stringify(messageJson(m))}\n`)) await once(res, "drain", { signal: closed });
  };
  /** Writes what was appended to `partitions` since last time. */
  const catchUp = async (partitions: Iterable<number>): Promise<void> => {
    for (const p of partitions) {
      let at = next.get(p) ?? 0;
      for (;;) {
        const page = await broker.read(topic, p, at, PAGE);
        for (const m of page) await write(m);
        at = (page.at(-1)?.offset ?? at - 1) + 1;
        if (page.length < PAGE) break;
      }
      next.set(p, at);
    }
  };
  /**
   * Ends the stream: with the error as its last line when the topic was deleted meanwhile (the
   * status was sent, so the reason goes in the body: `{"error": {...}}`, as an error response
   * carries it), else cut, for a failure of another kind.
   */
  const finish = async (err: unknown): Promise<void> => {
    const gone = err instanceof RiffError ? err.code === "RIFF_TOPIC_NOT_FOUND" : (await broker.getTopic(topic).catch(() => null)) === undefined;
    if (!gone || res.destroyed) {
      res.destroy();
      return;
    }
    const deleted = new RiffError("RIFF_TOPIC_NOT_FOUND", `topic '${topic}' was deleted while it was read`, {
      hint: `create it again with \`riff topics create ${topic}\` (or deploy a function that reads it), then tail it again`,
      details: { topic },
    });
    res.end(`${JSON.stringify({ error: deleted.toJSON() })}\n`);
  };
  try {
    for (;;) {
      const m = await nextOldest(broker, topic, cursors);
      if (m === undefined || closed.aborted) break;
      await write(m);
    }
  } catch (err) {
    // The client went away (nothing to tell), or the read failed: the topic was deleted, say so.
    if (!closed.aborted) await finish(err);
    else res.destroy();
    return;
  }
  if (closed.aborted) return;
  if (!o.follow) {
    res.end();
    return;
  }
  // What was appended while the history was written comes first, then each append as it comes.
  let reading = catchUp(next.keys());
  const off = broker.onAppend(topic, (positions) => {
    const partitions = new Set(positions.map((p) => p.partition));
    reading = reading.then(() => catchUp(partitions));
    reading.catch(stop);
  });
  // No append comes to a deleted topic: it is looked up now and then instead.
  const check = setInterval(() => {
    broker.getTopic(topic).then((t) => {
      if (t === undefined) stop(undefined);
    }, () => undefined);
  }, TAIL_TOPIC_CHECK_MS);
  let stopped = false;
  /** Ends the follow once: the client went away (`closed`), or a read failed or found the topic gone. */
  function stop(err: unknown): void {
    if (stopped) return;
    stopped = true;
    off();
    clearInterval(check);
    if (!closed.aborted) void finish(err);
  }
  reading.catch(stop);
  closed.addEventListener("abort", () => stop(undefined), { once: true });
}
