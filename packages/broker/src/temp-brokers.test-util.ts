import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import type { Logger } from "@riff/core";
import { SqliteBroker, createSqliteBroker } from "./index.js";

/** Brokers on a fresh temp folder per test; every one started is stopped and the folder removed. */
export interface TempBrokers {
  /** Starts a broker on this test's folder (the same folder each call, to test restarts). */
  start(logger?: Logger): Promise<SqliteBroker>;
  dir(): string;
}

/** Registers the hooks of {@link TempBrokers} in the current describe block. */
export function useTempBrokers(prefix: string): TempBrokers {
  let dir = "";
  const open: SqliteBroker[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), `riff-${prefix}-`));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    async start(logger?: Logger) {
      const broker = createSqliteBroker(
        logger === undefined
          ? { dir, retentionCheckIntervalMs: 0 }
          : { dir, retentionCheckIntervalMs: 0, logger },
      );
      open.push(broker);
      await broker.start();
      return broker;
    },
    dir: () => dir,
  };
}
