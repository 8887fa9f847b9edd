import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openTopicDb } from "./topic-schema.js";

describe("openTopicDb", () => {
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "riff-topic-schema-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // better-sqlite3's own default is 16 MB per connection: 16 MiB of the daemon's memory for
  // every busy topic. New and reopened files alike get the smaller cache.
  it("gives each topic file's connection a 2 MiB page cache, not better-sqlite3's 16 MB", () => {
    const path = join(dir, "t.db");
    const info = { name: "t", partitions: 1, retentionMs: 60_000, retentionBytes: 1 << 20, durability: "process" as const, replicas: 1 };
    for (const db of [openTopicDb(path, info), openTopicDb(path, undefined)]) {
      try {
        expect(db.pragma("cache_size", { simple: true })).toBe(-2048);
      } finally {
        db.close();
      }
    }
  });
});
