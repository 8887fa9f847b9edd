import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "@riff/core";
import { createSqliteBroker } from "./index.js";

/** Keeps every line logged, to check what recovery reported. */
function recordingLogger(lines: string[]): Logger {
  const log = (msg: string): void => void lines.push(msg);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

const FIXTURE = fileURLToPath(new URL("../test-fixtures/crash-writer.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const ROUNDS = 20;
const MAX_BATCH = 50;

interface RoundLog {
  start: number;
  acked: number;
  /** [first, last] of every batch the consumer reported, in order. */
  processed: [number, number][];
}

/** Runs the writer until it has acknowledged `target` messages, then SIGKILLs it. */
function runAndKill(child: ChildProcess, target: number): Promise<RoundLog> {
  return new Promise((resolve, reject) => {
    const log: RoundLog = { start: -1, acked: -1, processed: [] };
    let killed = false;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const [kind, a, b] = line.split(" ");
      if (kind === "S") log.start = Number(a);
      else if (kind === "A") log.acked = Number(a);
      else if (kind === "P") log.processed.push([Number(a), Number(b)]);
      else reject(new Error(`writer said: ${line}`));
      if (!killed && log.start >= 0 && log.acked - log.start + 1 >= target) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    // 'close' comes after the exit and after stdout ended, so every line was seen.
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(log);
      else reject(new Error(`writer exited with ${String(code)} before it was killed`));
    });
  });
}

describe("crash recovery", () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null)
      child.kill("SIGKILL");
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged message and never commits ahead of processing, over ${ROUNDS} kill -9`, async () => {
    expect(existsSync(DIST), "build first: npx tsc -b").toBe(true);
    dir = mkdtempSync(join(tmpdir(), "riff-crash-"));
    let committed = 0;
    let acked = -1;
    let processedMax = -1;
    for (let round = 0; round < ROUNDS; round++) {
      const target = 1 + Math.floor(Math.random() * 2000);
      child = spawn(process.execPath, [FIXTURE, dir], { stdio: ["ignore", "pipe", "inherit"] });
      const log = await runAndKill(child, target);

      // The new consumer started exactly at the committed offset: nothing committed came back.
      if (log.processed.length > 0) expect(log.processed[0]?.[0]).toBe(committed);
      expect(log.start).toBeGreaterThan(acked);
      acked = Math.max(acked, log.acked);
      for (const [, last] of log.processed) processedMax = Math.max(processedMax, last);

      const logged: string[] = [];
      const broker = createSqliteBroker({
        dir,
        retentionCheckIntervalMs: 0,
        logger: recordingLogger(logged),
      });
      await broker.start();
      try {
        expect(logged).toContain("topic was not closed cleanly; WAL recovered, quick_check ok");
        const [offsets] = await broker.endOffsets("crash");
        const end = offsets?.end ?? 0;
        expect(end).toBeGreaterThan(acked);
        const all = await broker.read("crash", 0, 0, end + 1);
        expect(all.length).toBe(end);
        all.forEach((m, i) => {
          expect(m.offset).toBe(i);
          expect(Buffer.from(m.payload).toString()).toBe(String(i));
        });
        const lag = await broker.lag("crash", "g");
        const now = lag.partitions[0]?.committed ?? 0;
        expect(now).toBeGreaterThanOrEqual(committed);
        expect(now).toBeLessThanOrEqual(processedMax + 1);
        // What the next run redelivers is at most the one batch that was in flight.
        expect(processedMax + 1 - now).toBeLessThanOrEqual(MAX_BATCH);
        committed = now;
      } finally {
        await broker.stop();
      }
    }
  });
});
