import { statSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Logger } from "@riff/core";

/** @default 4 MiB of WAL growth before a background checkpoint is asked for. */
export const DEFAULT_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** Appends between two looks at the WAL's size (a stat call each). */
const APPENDS_PER_LOOK = 16;

interface TopicState {
  appends: number;
  /** WAL size when the last background checkpoint was asked for. */
  mark: number;
  inFlight: boolean;
  /** Runs on the writer's connection once the thread is done: see {@link Checkpointer}. */
  finish: () => void;
}

/**
 * Keeps WAL checkpoints off the event loop. A checkpoint copies pages one by one from the WAL
 * into the database file (~30 us a page here), long enough to show as a p99 spike on every
 * publish behind it, so SQLite's automatic ones are off. Instead, once the WAL has grown by
 * 4 MiB, a worker thread checkpoints it on a connection of its own (PASSIVE: never blocking the
 * writer). Writes go on meanwhile, so when the thread is done the writer checkpoints the few
 * frames added since; with every frame copied, SQLite starts the WAL over at the next write and
 * the file stops growing.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private readonly topics = new Map<string, TopicState>();

  constructor(
    private readonly logger: Logger,
    private readonly thresholdBytes = DEFAULT_CHECKPOINT_BYTES,
  ) {}

  /** Called after each append to the topic file at `path`; `finish` checkpoints on the writer's connection. */
  wrote(path: string, finish: () => void): void {
    let t = this.topics.get(path);
    if (t === undefined) this.topics.set(path, (t = { appends: 0, mark: 0, inFlight: false, finish }));
    if (++t.appends % APPENDS_PER_LOOK !== 0 || t.inFlight) return;
    const size = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    // The WAL starts over from its beginning without shrinking: growth is measured from the mark.
    if (size < t.mark) t.mark = 0;
    if (size - t.mark < this.thresholdBytes) return;
    t.mark = size;
    t.inFlight = true;
    this.ensureWorker().postMessage(path);
  }

  /** Forgets a topic that was closed or deleted. */
  forget(path: string): void {
    this.topics.delete(path);
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./checkpoint-worker.js", import.meta.url));
    worker.unref();
    worker.on("message", ({ path, error }: { path: string; error?: string }) => {
      const t = this.topics.get(path);
      if (t === undefined) return;
      t.inFlight = false;
      if (error !== undefined) this.logger.debug("background checkpoint skipped", { path, error });
      else t.finish();
    });
    worker.on("error", (err) => {
      this.logger.warn("the checkpoint thread failed; starting another on the next need", { err: String(err) });
      for (const t of this.topics.values()) t.inFlight = false;
      this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}
