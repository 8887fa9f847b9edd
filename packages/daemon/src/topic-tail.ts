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

/**
 * Streams a topic's messages as NDJSON: history from `from` (at most `count` per partition),
 * then, with `follow`, each new message as it is written, until the client goes away.
 */
export async function tailTopic(
  broker: Broker,
  topic: string,
  o: { from: TailFrom; count: number; follow: boolean },
  res: ServerResponse,
  closed: AbortSignal,
): Promise<void> {
  const offsets = await broker.endOffsets(topic);
  const next = new Map<number, number>();
  const history: StoredMessage[] = [];
  for (const { partition, start, end } of offsets) {
    if (o.from.kind === "offset" && o.from.partition !== partition) {
      next.set(partition, end);
      continue;
    }
    let from = start;
    if (o.from.kind === "end") from = Math.max(start, end - o.count);
    if (o.from.kind === "offset") from = Math.max(start, o.from.offset);
    const taken: StoredMessage[] = [];
    while (from < end && taken.length < o.count) {
      const page = await broker.read(topic, partition, from, Math.min(PAGE, o.count - taken.length + PAGE));
      if (page.length === 0) break;
      for (const m of page) {
        if (o.from.kind === "since" && m.timestamp < o.from.timestamp) continue;
        if (taken.length < o.count) taken.push(m);
      }
      from = (page.at(-1)?.offset ?? from) + 1;
    }
    history.push(...taken);
    next.set(partition, end);
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  history.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  for (const m of history) res.write(`${JSON.stringify(messageJson(m))}\n`);
  if (!o.follow) {
    res.end();
    return;
  }
  let reading = Promise.resolve();
  const off = broker.onAppend(topic, (positions) => {
    const partitions = new Set(positions.map((p) => p.partition));
    reading = reading.then(async () => {
      for (const p of partitions) {
        let from = next.get(p) ?? 0;
        for (;;) {
          const page = await broker.read(topic, p, from, PAGE);
          for (const m of page) res.write(`${JSON.stringify(messageJson(m))}\n`);
          if (page.length < PAGE) {
            from = (page.at(-1)?.offset ?? from - 1) + 1;
            break;
          }
          from = (page.at(-1)?.offset ?? from) + 1;
        }
        next.set(p, from);
      }
    }).catch(() => {
      res.destroy();
    });
  });
  closed.addEventListener("abort", off);
}
