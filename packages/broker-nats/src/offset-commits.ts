import { setTimeout as sleep } from "node:timers/promises";
import { RiffError } from "@riff/core";
import type { OffsetStore } from "./offset-store.js";

/**
 * @default 50 ms at least from one write of a partition's offset to the next: under load, a
 * KV write (three on R3) per message cost more than the message; folding 50 ms of commits into
 * one costs, on a takeover, at most 50 ms more of messages delivered again.
 */
export const COMMIT_INTERVAL_MS = 50;

/**
 * The commits of one partition by its owner of one lease generation: one compare-and-set
 * write in flight at a time, at most one every {@link COMMIT_INTERVAL_MS} (none apart while the
 * partition is being handed over: {@link OffsetCommits.hurry}), later commits
 * folded into the next write (a commit resolves once a write of its offset or a later one is
 * durable). A write that finds the record rewritten by
 * another generation means the partition was taken over: `lost` is called and the commit fails.
 */
export class OffsetCommits {
  private writing: Promise<void> | undefined;
  private lastWrite = -Infinity;
  private next: { offset: number; waiters: { resolve(): void; reject(err: unknown): void }[] } | undefined;
  /** Ends the wait between two writes early: see {@link hurry}. */
  private wake = new AbortController();
  private hurried = false;

  constructor(
    private readonly store: OffsetStore,
    private readonly where: { topic: string; group: string; partition: number },
    private readonly generation: number,
    private revision: number,
    private readonly lost: (why: string) => void,
  ) {}

  /** Makes `offset` (the next to read) the committed one; resolves once that is durable. */
  write(offset: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // One pending write for every commit until it starts: later offsets move it on (a
      // commit per message under load, so no copy of the waiters per commit).
      if (this.next === undefined) this.next = { offset, waiters: [] };
      else if (offset > this.next.offset) this.next.offset = offset;
      this.next.waiters.push({ resolve, reject });
      if (this.writing === undefined) this.writing = this.flush();
    });
  }

  /**
   * `true`: each commit is written at once, while the partition is being handed over (the next
   * holder waits for this owner's last commit, which the interval would only delay); `false`
   * (it was dealt back here): batched again.
   */
  hurry(on: boolean): void {
    if (on === this.hurried) return;
    this.hurried = on;
    if (!on) return;
    this.wake.abort();
    this.wake = new AbortController();
  }

  private async flush(): Promise<void> {
    while (this.next !== undefined) {
      const wait = this.hurried ? 0 : this.lastWrite + COMMIT_INTERVAL_MS - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal: this.wake.signal }).catch(() => undefined);
      const { offset, waiters } = this.next;
      this.next = undefined;
      this.lastWrite = performance.now();
      try {
        await this.once(offset);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = undefined;
  }

  private async once(offset: number): Promise<void> {
    const { topic, group, partition } = this.where;
    const revision = await this.store.write(topic, group, partition, offset, this.generation, this.revision);
    if (revision !== undefined) {
      this.revision = revision;
      return;
    }
    const now = await this.store.get(topic, group, partition);
    if (now === undefined) {
      // The record is gone (its bucket was lost): this owner still holds the partition, so
      // its offset is the truth; write it afresh rather than let the group start over.
      const created = await this.store.write(topic, group, partition, offset, this.generation, 0);
      if (created !== undefined) {
        this.revision = created;
        return;
      }
    }
    const why = `generation ${now?.generation ?? "?"} took it over from generation ${this.generation}`;
    this.lost(why);
    throw new RiffError("RIFF_BROKER_UNAVAILABLE", `partition ${partition} of topic '${topic}' moved to another node (${why}); this commit is void`, {
      hint: "nothing to do: the new owner delivers the uncommitted messages again",
    });
  }
}
