import { DeadLetterHeaders as H, HeaderNames, isDeadLetterHeader, RiffError, type DeadLetterRow, type Headers, type RedriveResult } from "@riff/core";
import type { Broker, StoredMessage } from "@riff/broker";

/**
 * The consumer group that marks, per partition of a dead-letter topic, the first offset
 * `riff dead-letters` shows: neither broker can cut a topic's head, so a purge or a redrive
 * moves this mark instead, and the messages behind it go with the topic's retention.
 */
export const DEAD_LETTER_MARK_GROUP = "riff-dead-letters-seen";
const PAGE = 256;

/**
 * The dead letters of one function in its dead-letter topic: those past the mark, written by
 * the function (a topic named with `spec.deadLetter` may be shared).
 */
export class DeadLetterBox {
  constructor(
    private readonly broker: Broker,
    readonly topic: string,
    readonly fn: string,
  ) {}

  async list(): Promise<DeadLetterRow[]> {
    const rows: DeadLetterRow[] = [];
    for (const part of await this.partitions()) for (const m of part.letters) if (this.mine(m)) rows.push(rowOf(m));
    return rows.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  }

  /** One dead letter, whole; refused when it is not one of {@link list}'s. */
  async get(partition: number, offset: number): Promise<StoredMessage> {
    const mark = (await this.marks())[partition];
    const [m] = mark === undefined || offset < mark ? [] : await this.broker.read(this.topic, partition, offset, 1);
    if (m === undefined || m.offset !== offset || !this.mine(m)) {
      throw new RiffError("RIFF_NOT_FOUND", `function '${this.fn}' has no dead letter at ${partition}@${offset} of topic '${this.topic}'`, {
        hint: `see its dead letters with \`riff dead-letters list ${this.fn}\``,
      });
    }
    return m;
  }

  /**
   * Publishes the function's dead letters again, each to the topic it came from (or `to`),
   * as it was before it failed: without riff's dead-letter headers and without a caller to
   * answer. Then moves the mark past them, so a second redrive does not send them twice.
   */
  async redrive(to?: string): Promise<RedriveResult> {
    const result: RedriveResult = { redriven: 0, to: {}, left: 0 };
    const marks: number[] = [];
    for (const part of await this.partitions()) {
      marks[part.partition] = part.end;
      let blocked = false;
      for (const m of part.letters) {
        // In a shared topic the mark cannot pass another function's letter: it stays for that one.
        if (!this.mine(m) || blocked) {
          if (!blocked) marks[part.partition] = m.offset;
          blocked = true;
          if (this.mine(m)) result.left++;
          continue;
        }
        const target = to ?? m.headers[H.topic]?.[0];
        if (target === undefined) {
          throw new RiffError("RIFF_INVALID_ARGUMENT", `the dead letter at ${m.partition}@${m.offset} of '${this.topic}' does not say which topic it came from`, {
            hint: "name one with --to TOPIC",
          });
        }
        await this.broker.publish(target, m.key === undefined ? { headers: redriven(m.headers), payload: m.payload } : { headers: redriven(m.headers), payload: m.payload, key: m.key });
        result.to[target] = (result.to[target] ?? 0) + 1;
        result.redriven++;
      }
    }
    await this.broker.seek(this.topic, DEAD_LETTER_MARK_GROUP, { offsets: marks });
    return result;
  }

  /** Hides every letter of the topic (every function's, when it is shared); returns how many. */
  async purge(): Promise<number> {
    if ((await this.broker.getTopic(this.topic)) === undefined) return 0;
    const lag = await this.broker.lag(this.topic, DEAD_LETTER_MARK_GROUP);
    await this.broker.seek(this.topic, DEAD_LETTER_MARK_GROUP, "latest");
    return lag.lag;
  }

  private mine(m: StoredMessage): boolean {
    return m.headers[H.function]?.[0] === this.fn;
  }

  /** Per partition, the first offset shown. */
  private async marks(): Promise<number[]> {
    if ((await this.broker.getTopic(this.topic)) === undefined) return [];
    return (await this.broker.lag(this.topic, DEAD_LETTER_MARK_GROUP)).partitions.map((p) => p.committed);
  }

  /** Every partition's letters past the mark, up to the end as it was when asked. */
  private async partitions(): Promise<{ partition: number; end: number; letters: StoredMessage[] }[]> {
    if ((await this.broker.getTopic(this.topic)) === undefined) return [];
    const lag = await this.broker.lag(this.topic, DEAD_LETTER_MARK_GROUP);
    const starts = (await this.broker.endOffsets(this.topic)).map((o) => o.start);
    const out = [];
    for (const { partition, committed, end } of lag.partitions) {
      const letters: StoredMessage[] = [];
      // The mark may be behind what retention kept.
      for (let from = Math.max(committed, starts[partition] ?? 0); from < end; ) {
        const page = await this.broker.read(this.topic, partition, from, Math.min(PAGE, end - from));
        const last = page.at(-1);
        if (last === undefined) break;
        letters.push(...page);
        from = last.offset + 1;
      }
      out.push({ partition, end, letters });
    }
    return out;
  }
}

function rowOf(m: StoredMessage): DeadLetterRow {
  const h = (name: string) => m.headers[name]?.[0] ?? "";
  return {
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key ?? null,
    code: h(H.code),
    attempts: Number(h(H.attempts)) || 0,
    source: h(H.source),
    reason: h(H.reason),
  };
}

/** A dead letter's headers as the message had them: no caller waits for a redriven message. */
function redriven(headers: Headers): Headers {
  const out: Headers = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!isDeadLetterHeader(k) && k !== HeaderNames.correlationId && k !== HeaderNames.replyNode) out[k] = v;
  }
  return out;
}
