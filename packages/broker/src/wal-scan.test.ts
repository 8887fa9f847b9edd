import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "@riff/core";
import { createSqliteBroker } from "./index.js";
import { scanTopicWal } from "./topic-schema.js";
import {
  FRAME_HEADER_BYTES,
  WAL_HEADER_BYTES,
  describeWalCut,
  scanWal,
  walChecksum,
} from "./wal-scan.js";

/** Keeps every line logged, to check what start-up reported. */
function recordingLogger(lines: string[]): Logger {
  const log = (msg: string): void => void lines.push(msg);
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

const tempDir = (): string => mkdtempSync(join(tmpdir(), "riff-wal-"));

/** The frame size and the numbers (from 1) of the commit frames, read from frame headers only. */
function layout(wal: Buffer): { frameBytes: number; frames: number; commits: number[] } {
  const frameBytes = FRAME_HEADER_BYTES + wal.readUInt32BE(8);
  const frames = Math.floor((wal.length - WAL_HEADER_BYTES) / frameBytes);
  const commits: number[] = [];
  for (let i = 1; i <= frames; i++) {
    if (wal.readUInt32BE(WAL_HEADER_BYTES + (i - 1) * frameBytes + 4) !== 0) commits.push(i);
  }
  return { frameBytes, frames, commits };
}

/**
 * A copy of `wal` with the last byte of frame `n`'s page inverted. The checksum adds the page's
 * last word with weight 1, so this always shows; elsewhere a weight with many factors of 2 could
 * cancel a change.
 */
function flipLastPageByte(wal: Buffer, n: number): Buffer {
  const out = Buffer.from(wal);
  const at = WAL_HEADER_BYTES + n * layout(wal).frameBytes - 1;
  out.writeUInt8(out.readUInt8(at) ^ 0xff, at);
  return out;
}

describe("scanWal on WALs that SQLite wrote", () => {
  let dir: string;
  let db: Database.Database;
  beforeEach(() => {
    dir = tempDir();
    db = new Database(join(dir, "a.db"));
    db.pragma("journal_mode = WAL");
    db.pragma("wal_autocheckpoint = 0");
    db.exec("CREATE TABLE t (x BLOB)");
    const insert = db.prepare("INSERT INTO t VALUES (?)");
    for (let i = 0; i < 20; i++) insert.run(randomBytes(3000 + i * 500));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const walPath = (): string => join(dir, "a.db-wal");

  /** The oracle: how many frames SQLite's own recovery keeps of `wal`, beside a copy of a.db. */
  function sqliteKeeps(wal: Buffer): number {
    const copy = tempDir();
    try {
      copyFileSync(join(dir, "a.db"), join(copy, "a.db"));
      writeFileSync(join(copy, "a.db-wal"), wal);
      const other = new Database(join(copy, "a.db"));
      // The checkpoint's `log` is the number of frames the recovered WAL holds.
      const [row] = other.pragma("wal_checkpoint(PASSIVE)") as { log: number }[];
      other.close();
      return row?.log ?? -1;
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }

  /** Scans `wal` written to a file of its own. */
  function scanBytes(wal: Buffer): ReturnType<typeof scanWal> {
    const path = join(dir, "damaged-wal");
    writeFileSync(path, wal);
    return scanWal(path);
  }

  it("reads every frame of an intact WAL, as many as SQLite recovers", () => {
    const wal = readFileSync(walPath());
    const { frames, commits, frameBytes } = layout(wal);
    const scan = scanWal(walPath());
    expect(scan).toMatchObject({ end: "end-of-file", frames, cutBytes: 0 });
    expect(scan?.commits).toBe(commits.length);
    expect(scan?.pageSize).toBe(db.pragma("page_size", { simple: true }));
    expect(scan?.validEnd).toBe(WAL_HEADER_BYTES + frames * frameBytes);
    expect(sqliteKeeps(wal)).toBe(frames);
    expect(describeWalCut("t", scan!)).toBeUndefined();
  });

  it("stops where SQLite's recovery stops, and says why", () => {
    const wal = readFileSync(walPath());
    const { frames, commits, frameBytes } = layout(wal);
    const previous = commits.at(-2) as number;
    const lastFrame = WAL_HEADER_BYTES + (frames - 1) * frameBytes;
    const damage: [string, Buffer][] = [
      ["short-frame", wal.subarray(0, wal.length - 10)],
      ["checksum-mismatch", flipLastPageByte(wal, frames)],
      ["salt-mismatch", Buffer.from(wal).fill(0, lastFrame + 12, lastFrame + 16)],
      ["zero-page", Buffer.from(wal).fill(0, lastFrame, lastFrame + 4)],
      ["salt-mismatch", Buffer.concat([wal, randomBytes(2 * frameBytes)])],
    ];
    for (const [end, bytes] of damage) {
      const scan = scanBytes(bytes);
      const kept = end === "salt-mismatch" && bytes.length > wal.length ? frames : previous;
      expect(scan, end).toMatchObject({ end, frames: kept });
      expect(scan?.cutBytes).toBe(bytes.length - (WAL_HEADER_BYTES + kept * frameBytes));
      expect(sqliteKeeps(bytes), end).toBe(kept);
    }
  });

  it("takes frames left from before a WAL restart for what they are, not for damage", () => {
    db.pragma("wal_checkpoint(PASSIVE)");
    // The checkpoint copied everything, so this write starts the WAL over, with salt-1 + 1.
    db.prepare("INSERT INTO t VALUES (?)").run(Buffer.from("small"));
    const wal = readFileSync(walPath());
    const scan = scanWal(walPath());
    expect(scan).toMatchObject({ end: "earlier-generation", cutBytes: 0 });
    expect(scan?.frames).toBe(sqliteKeeps(wal));
    expect(scan?.leftoverBytes).toBe(wal.length - (scan?.validEnd ?? 0));
    expect(scan?.leftoverBytes).toBeGreaterThan(0);
    expect(describeWalCut("t", scan!)).toBeUndefined();

    // A writer killed between a frame's header and its page leaves the new header on an old
    // page, just before the leftovers: only that frame is cut, the leftovers stay leftovers.
    const torn = Buffer.from(wal);
    const at = scan?.validEnd ?? 0;
    wal.copy(torn, at + 8, 16, 24); // the header's salts, and a checksum that cannot match
    torn.writeUInt32BE(2, at);
    torn.writeUInt32BE(0, at + 4);
    const frameBytes = layout(wal).frameBytes;
    expect(scanBytes(torn)).toMatchObject({
      end: "checksum-mismatch",
      frames: scan?.frames,
      cutBytes: frameBytes,
      leftoverBytes: wal.length - at - frameBytes,
    });
    expect(sqliteKeeps(torn)).toBe(scan?.frames);
  });

  it("checks big-endian checksums (magic 0x377f0683) the way SQLite does", () => {
    // Re-encode the WAL with big-endian checksums; if walChecksum got them wrong, SQLite's
    // recovery would reject the frames and keep none.
    const wal = Buffer.from(readFileSync(walPath()));
    const { frames, frameBytes } = layout(wal);
    wal.writeUInt32BE(0x377f0683, 0);
    let sum = walChecksum(wal, 0, 24, false, [0, 0]);
    wal.writeUInt32BE(sum[0], 24);
    wal.writeUInt32BE(sum[1], 28);
    for (let at = WAL_HEADER_BYTES; at < wal.length; at += frameBytes) {
      sum = walChecksum(wal, at, at + 8, false, sum);
      sum = walChecksum(wal, at + FRAME_HEADER_BYTES, at + frameBytes, false, sum);
      wal.writeUInt32BE(sum[0], at + 16);
      wal.writeUInt32BE(sum[1], at + 20);
    }
    expect(sqliteKeeps(wal)).toBe(frames);
    expect(scanBytes(wal)).toMatchObject({ end: "end-of-file", frames, cutBytes: 0 });
  });

  it("describes odd files instead of throwing; the open path logs a failed scan at debug", () => {
    expect(scanWal(join(dir, "missing-wal"))).toBeUndefined();
    expect(scanBytes(Buffer.alloc(0))).toBeUndefined();
    expect(scanBytes(Buffer.from("torn"))).toMatchObject({ end: "short-header", cutBytes: 4 });
    const junk = scanBytes(randomBytes(10_000));
    expect(junk).toMatchObject({ end: "bad-header", frames: 0, cutBytes: 10_000 });
    expect(describeWalCut("t", junk!)).toContain("cut off 10000 bytes (the whole WAL)");
    mkdirSync(join(dir, "dir.db-wal"));
    const logged: string[] = [];
    expect(scanTopicWal(join(dir, "dir.db"), "dir", recordingLogger(logged))).toBeUndefined();
    expect(logged).toEqual(["could not scan the WAL before opening the topic"]);
  });
});

const FIXTURE = fileURLToPath(new URL("../test-fixtures/wal-writer.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const COUNT = 30;

/** Waits for the writer to say it is done, SIGKILLs it, and resolves once it is gone. */
function killWhenDone(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let acked = -1;
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.startsWith("A ")) acked = Number(line.slice(2));
      else if (line === "D") child.kill("SIGKILL");
      else reject(new Error(`writer said: ${line}`));
    });
    child.on("error", reject);
    // 'close' comes after the exit and the end of stdout, so every line was seen.
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`writer exited with ${String(code)} before it was killed`));
    });
  });
}

/** A damaged copy of the killed writer's WAL, the warning it must bring, the messages kept. */
type Damaged = { bytes: Buffer; warning?: string; kept: number };

describe("start-up after a crash left a damaged WAL", () => {
  let base = "";
  let wal = Buffer.alloc(0);
  const dirs: string[] = [];
  beforeAll(async () => {
    expect(existsSync(DIST), "build first: npx tsc -b").toBe(true);
    base = tempDir();
    const child = spawn(process.execPath, [FIXTURE, base, String(COUNT)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    expect(await killWhenDone(child)).toBe(COUNT - 1);
    wal = readFileSync(join(base, "torn.db-wal"));
    // The damage below assumes one generation that ends with the last publish's commit frame.
    const { frames, commits } = layout(wal);
    expect(commits.at(-1)).toBe(frames);
    expect(scanWal(join(base, "torn.db-wal"))).toMatchObject({ end: "end-of-file", frames });
  });
  afterAll(() => {
    for (const d of [base, ...dirs]) rmSync(d, { recursive: true, force: true });
  });

  const line = (bytes: number, frames: number, why: string): string =>
    `topic 'torn': cut off ${bytes} bytes (${frames} frame${frames === 1 ? "" : "s"}) of an ` +
    `unfinished write at the end of the WAL (${why}); everything before it is served`;

  /** Damage in the last publish's transaction: recovery cuts from the previous commit on. */
  function lastCommitLost(bytes: Buffer, why: string): Damaged {
    const { frameBytes, frames, commits } = layout(wal);
    const previous = commits.at(-2) as number;
    const cut = bytes.length - (WAL_HEADER_BYTES + previous * frameBytes);
    const warning = line(cut, frames - previous, `${why} at frame ${frames}`);
    return { bytes, warning, kept: COUNT - 1 };
  }

  // Each case damages a copy of the WAL the killed writer left, and says what start-up must
  // log and how many messages survive: the last publish was a commit of its own.
  const cases: [string, () => Damaged][] = [
    ["nothing", () => ({ bytes: wal, kept: COUNT })],
    [
      "garbage appended",
      () => {
        const { frameBytes, frames } = layout(wal);
        const junk = 2 * frameBytes + 100;
        const warning = line(junk, 3, `salt mismatch at frame ${frames + 1}`);
        return { bytes: Buffer.concat([wal, randomBytes(junk)]), warning, kept: COUNT };
      },
    ],
    [
      "the last frame cut in the middle",
      () => lastCommitLost(wal.subarray(0, wal.length - layout(wal).frameBytes / 2), "short frame"),
    ],
    [
      "a byte flipped in the last frame's page",
      () => lastCommitLost(flipLastPageByte(wal, layout(wal).frames), "checksum mismatch"),
    ],
  ];

  const title = "with %s: logs the cut, serves what is before it, takes publishes";
  it.each(cases)(title, async (_, damage) => {
    const { bytes, warning, kept } = damage();
    const dir = tempDir();
    dirs.push(dir);
    cpSync(base, dir, { recursive: true });
    writeFileSync(join(dir, "torn.db-wal"), bytes);
    const logged: string[] = [];
    const logger = recordingLogger(logged);
    const broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0, logger });
    await broker.start();
    try {
      const cuts = logged.filter((l) => l.includes("cut off"));
      expect(cuts).toEqual(warning === undefined ? [] : [warning]);
      expect(logged).toContain("topic was not closed cleanly; WAL recovered, quick_check ok");
      expect((await broker.endOffsets("torn"))[0]?.end).toBe(kept);
      const all = await broker.read("torn", 0, 0, COUNT + 1);
      const offsets = [...Array(kept).keys()];
      expect(all.map((m) => m.offset)).toEqual(offsets);
      expect(all.map((m) => Buffer.from(m.payload).toString())).toEqual(offsets.map(String));
      expect((await broker.publish("torn", { payload: Buffer.from("after") })).offset).toBe(kept);
    } finally {
      await broker.stop();
    }
    // The new write went over the cut tail and was kept: a further start finds it.
    const again = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
    await again.start();
    try {
      const tail = await again.read("torn", 0, kept, 2);
      expect(tail.map((m) => Buffer.from(m.payload).toString())).toEqual(["after"]);
    } finally {
      await again.stop();
    }
  });
});
