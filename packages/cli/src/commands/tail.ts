import { DaemonClient, errorFrom } from "../client.js";
import { badArgument, flagWholeNumber } from "../output.js";

/** Options of `riff topics tail`. */
export interface TailOptions {
  fromBeginning?: boolean;
  fromOffset?: string;
  since?: string;
  count?: string;
  follow?: boolean;
  output?: string;
}

interface TailedMessage {
  partition: number;
  offset: number;
  timestamp: number;
  headers: Record<string, string[]>;
  payload: string;
  encoding: string;
}

/** `riff topics tail NAME`: prints messages with partition, offset and headers; `-o json` prints NDJSON. */
export async function tail(home: string, name: string, o: TailOptions): Promise<void> {
  const starts = [o.fromBeginning === true, o.fromOffset !== undefined, o.since !== undefined].filter(Boolean).length;
  if (starts > 1) throw badArgument("choose one of --from-beginning, --from-offset and --since");
  let from = "end";
  if (o.fromBeginning === true) from = "beginning";
  if (o.fromOffset !== undefined) {
    if (!/^\d+:\d+$/.test(o.fromOffset)) throw badArgument(`--from-offset ${o.fromOffset}: write PARTITION:OFFSET`, "for example --from-offset 0:42");
    from = o.fromOffset;
  }
  if (o.since !== undefined) from = `since:${o.since}`;
  const count = String(flagWholeNumber(o.count, "--count", 0) ?? (from === "end" ? 10 : 1_000_000_000));
  const query = new URLSearchParams({ from, count, follow: String(o.follow === true) });
  const client = new DaemonClient(home);
  const res = await client.fetch(`/api/v1/topics/${encodeURIComponent(name)}/messages?${query.toString()}`, { auth: true });
  if (!res.ok) throw errorFrom(res.status, await res.text());
  if (res.body === null) return;
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of res.body) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      // The daemon's last line, when the topic went away while it was read: the error, as an
      // error response carries it (the 200 was sent with the first message).
      if (line.startsWith(ERROR_LINE)) throw errorFrom(200, line);
      if (line !== "") print(line, o.output === "json");
    }
  }
}

const ERROR_LINE = '{"error":';

function print(line: string, json: boolean): void {
  if (json) {
    process.stdout.write(`${line}\n`);
    return;
  }
  const m = JSON.parse(line) as TailedMessage;
  const headers = Object.entries(m.headers)
    .filter(([k]) => k !== "riff-correlation-id")
    .map(([k, v]) => `${k}=${v.join(",")}`)
    .join(" ");
  const payload = m.encoding === "utf8" ? m.payload : `(base64) ${m.payload}`;
  process.stdout.write(`${m.partition}@${m.offset} ${new Date(m.timestamp).toISOString()} ${headers}\n  ${payload}\n`);
}
