import type { StoredMessage } from "./broker.js";

/**
 * The most recent messages of one partition, in offset order, so that consumers that are caught
 * up get new messages straight from memory instead of reading back what was just written.
 * Bounded by count and by payload bytes; older messages are read from SQLite.
 */
export class TailCache {
  private messages: (StoredMessage | undefined)[] = [];
  /** Index in `messages` of the oldest cached message; the array is compacted lazily. */
  private head = 0;
  private bytes = 0;
  /** Offset of messages[head]; meaningful only when the cache is not empty. */
  private first = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  /** Appends a message whose offset directly follows the last cached one. */
  push(message: StoredMessage): void {
    if (this.maxMessages === 0) return;
    if (this.head === this.messages.length) {
      this.clear();
      this.first = message.offset;
    } else if (message.offset !== this.first + this.size()) {
      // A gap would make offsets and indexes disagree; start over from this message.
      this.clear();
      this.first = message.offset;
    }
    this.messages.push(message);
    this.bytes += message.payload.byteLength;
    while (this.size() > this.maxMessages || (this.bytes > this.maxBytes && this.size() > 1)) {
      this.dropOldest();
    }
    if (this.head > 1024 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }

  /** Whether `offset` is served from memory. */
  has(offset: number): boolean {
    return this.size() > 0 && offset >= this.first && offset < this.first + this.size();
  }

  /** Up to `limit` cached messages from `offset`, which must satisfy {@link has}. */
  slice(offset: number, limit: number): StoredMessage[] {
    const start = this.head + (offset - this.first);
    // Only indexes from `head` on are filled, and `start` is at or past it.
    return this.messages.slice(
      start,
      Math.min(this.messages.length, start + limit),
    ) as StoredMessage[];
  }

  /** Forgets messages below `offset` (retention moved the partition's start). */
  dropBefore(offset: number): void {
    while (this.size() > 0 && this.first < offset) this.dropOldest();
  }

  clear(): void {
    this.messages = [];
    this.head = 0;
    this.bytes = 0;
  }

  private size(): number {
    return this.messages.length - this.head;
  }

  private dropOldest(): void {
    const oldest = this.messages[this.head];
    if (oldest === undefined) return;
    this.bytes -= oldest.payload.byteLength;
    this.messages[this.head] = undefined;
    this.head++;
    this.first++;
  }
}
