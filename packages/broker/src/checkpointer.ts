import { Worker } from "node:worker_threads";
import type { Logger } from "@riff/core";

/** @default 4 MiB of WAL written before a background checkpoint is asked for. */
export const DEFAULT_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/**
 * @default 16 MiB of rows (about three times that in WAL pages): past this the writer resets the WAL itself. Under a steady stream of writes
 * a background checkpoint never finds the WAL idle, so the WAL never restarts and would grow
 * without bound; the writer's own TRUNCATE checkpoint only has to copy what the background
 * ones have not, a short stall once per 16 MiB.
 */
export const DEFAULT_WAL_HIGH_WATER_BYTES = 16 * 1024 * 1024;

/**
 * Asks a worker thread to checkpoint a topic's WAL once enough was written to it, one request
 * in flight per topic. Automatic checkpoints are off on the broker's own connections, so the
 * event loop never copies pages itself.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private readonly written = new Map<string, number>();
  private readonly sinceReset = new Map<string, number>();
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly thresholdBytes = DEFAULT_CHECKPOINT_BYTES,
  ) {}

  /** Counts bytes appended to the topic file at `path`; checkpoints when past the threshold. */
  wrote(path: string, bytes: number): void {
    this.sinceReset.set(path, (this.sinceReset.get(path) ?? 0) + bytes);
    const total = (this.written.get(path) ?? 0) + bytes;
    if (total < this.thresholdBytes || this.inFlight.has(path)) {
      this.written.set(path, total);
      return;
    }
    this.written.set(path, 0);
    this.inFlight.add(path);
    this.ensureWorker().postMessage(path);
  }

  /** True when the writer should reset the WAL now (see {@link DEFAULT_WAL_HIGH_WATER_BYTES}). */
  needsReset(path: string): boolean {
    return (this.sinceReset.get(path) ?? 0) >= DEFAULT_WAL_HIGH_WATER_BYTES && !this.inFlight.has(path);
  }

  /** The writer reset the WAL of `path`. */
  reset(path: string): void {
    this.sinceReset.set(path, 0);
    this.written.set(path, 0);
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
      this.inFlight.delete(path);
      if (error !== undefined) this.logger.debug("background checkpoint skipped", { path, error });
    });
    worker.on("error", (err) => {
      this.logger.warn("the checkpoint thread failed; starting another on the next need", { err: String(err) });
      this.inFlight.clear();
      this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}
