// Reads a topic's WAL the way SQLite's recovery does (walIndexRecover in SQLite's wal.c), so that
// start-up can say what recovery is about to ignore. It must run BEFORE the database is opened:
// once SQLite has recovered, the next write overwrites the ignored tail in place.
//
// Layout (all integers big-endian): a 32-byte header (magic, format version, page size,
// checkpoint sequence, salt-1, salt-2, checksum-1, checksum-2), then frames of a 24-byte header
// (page number, database size after commit or 0, salt-1, salt-2, checksum-1, checksum-2) and one
// page. A frame counts only if its salts equal the header's and its checksum, which continues
// from the previous frame's, matches; a transaction counts only once its commit frame does.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

export const WAL_HEADER_BYTES = 32;
export const FRAME_HEADER_BYTES = 24;
/** 0x377f0682; the low bit set (…83) means the checksums read the data as big-endian words. */
const WAL_MAGIC = 0x377f0682;
const WAL_FORMAT_VERSION = 3007000;
/**
 * How far behind the header's salt-1 a frame's may be and still pass for a leftover: each WAL
 * restart adds 1 to salt-1, and 2^20 restarts (riff restarts about every 4 MiB) is terabytes.
 */
const EARLIER_GENERATIONS = 1 << 20;

/**
 * Why reading stopped. Recovery cuts nothing when the file ends right after a commit frame
 * (`end-of-file` with `cutBytes` 0) or when frames of an earlier generation follow one.
 */
export type WalEnd =
  | "end-of-file"
  | "short-header"
  | "bad-header"
  | "short-frame"
  | "salt-mismatch"
  | "zero-page"
  | "checksum-mismatch"
  /** Frames of a WAL generation before the last restart: SQLite rewinds without truncating. */
  | "earlier-generation";

export interface WalScan {
  fileBytes: number;
  /** 0 when the header is unusable. */
  pageSize: number;
  /** Valid frames up to and including the last valid commit frame: what SQLite will use. */
  frames: number;
  commits: number;
  /** Byte offset where the used part ends; everything from here on is ignored by SQLite. */
  validEnd: number;
  end: WalEnd;
  /** 1-based number of the frame at which reading stopped (the first one not read as valid). */
  stopFrame: number;
  /** Bytes after `validEnd` that an unfinished or damaged write left: what recovery cuts off. */
  cutBytes: number;
  /** Frames in the cut, a partial one counted. */
  cutFrames: number;
  /** Bytes after the cut left by an earlier WAL generation: routine, not a loss. */
  leftoverBytes: number;
}

/** SQLite's WAL checksum over `bytes[from, to)` (a multiple of 8 long), continuing from `seed`. */
export function walChecksum(
  bytes: Uint8Array,
  from: number,
  to: number,
  littleEndian: boolean,
  seed: readonly [number, number],
): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let [s0, s1] = seed;
  for (let i = from; i < to; i += 8) {
    // Both sums stay below 2^53, so plain numbers are exact before the wrap to 32 bits.
    s0 = (s0 + view.getUint32(i, littleEndian) + s1) >>> 0;
    s1 = (s1 + view.getUint32(i + 4, littleEndian) + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * Scans the WAL at `walPath`; undefined when there is none or it is empty (nothing to recover).
 * Damaged content is described, never thrown; only I/O errors throw.
 */
export function scanWal(walPath: string): WalScan | undefined {
  let fd: number;
  try {
    fd = openSync(walPath, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    return size === 0 ? undefined : scanOpenWal(fd, size);
  } finally {
    closeSync(fd);
  }
}

function scanOpenWal(fd: number, size: number): WalScan {
  const header = new Uint8Array(WAL_HEADER_BYTES);
  const got = readSync(fd, header, 0, WAL_HEADER_BYTES, 0);
  // With the header unusable SQLite ignores the whole file (and refuses an unknown version).
  const whole = (end: WalEnd): WalScan => ({
    fileBytes: size,
    pageSize: 0,
    frames: 0,
    commits: 0,
    validEnd: 0,
    end,
    stopFrame: 1,
    cutBytes: size,
    cutFrames: 0,
    leftoverBytes: 0,
  });
  if (got < WAL_HEADER_BYTES) return whole("short-header");
  const hv = new DataView(header.buffer);
  const magic = hv.getUint32(0);
  const pageSize = hv.getUint32(8);
  const littleEndian = (magic & 1) === 0;
  const sum = walChecksum(header, 0, 24, littleEndian, [0, 0]);
  if (
    (magic & ~1) >>> 0 !== WAL_MAGIC ||
    pageSize < 512 ||
    pageSize > 65536 ||
    (pageSize & (pageSize - 1)) !== 0 ||
    sum[0] !== hv.getUint32(24) ||
    sum[1] !== hv.getUint32(28) ||
    hv.getUint32(4) !== WAL_FORMAT_VERSION
  ) {
    return whole("bad-header");
  }
  const salt1 = hv.getUint32(16);
  const salt2 = hv.getUint32(20);
  const frameBytes = FRAME_HEADER_BYTES + pageSize;
  const frame = new Uint8Array(frameBytes);
  const fv = new DataView(frame.buffer);
  const out: WalScan = { ...whole("end-of-file"), pageSize, validEnd: WAL_HEADER_BYTES };
  let chain: [number, number] = sum;
  let frames = 0;
  let offset = WAL_HEADER_BYTES;
  const leftoverAt = (at: number): boolean => isLeftover(fd, at, frameBytes, salt1, littleEndian);
  for (;;) {
    const n = readSync(fd, frame, 0, frameBytes, offset);
    if (n === 0) break;
    if (n < frameBytes) {
      out.end = "short-frame";
      break;
    }
    if (fv.getUint32(8) !== salt1 || fv.getUint32(12) !== salt2) {
      out.end = leftoverAt(offset) ? "earlier-generation" : "salt-mismatch";
      break;
    }
    if (fv.getUint32(0) === 0) {
      out.end = "zero-page";
      break;
    }
    chain = walChecksum(frame, 0, 8, littleEndian, chain);
    chain = walChecksum(frame, FRAME_HEADER_BYTES, frameBytes, littleEndian, chain);
    if (chain[0] !== fv.getUint32(16) || chain[1] !== fv.getUint32(20)) {
      out.end = "checksum-mismatch";
      break;
    }
    frames++;
    offset += frameBytes;
    if (fv.getUint32(4) !== 0) {
      out.frames = frames;
      out.commits++;
      out.validEnd = offset;
    }
  }
  out.stopFrame = frames + 1;
  // Valid frames after the last commit belong to a transaction that never committed: cut too.
  // The cut ends where frames left from before a WAL restart begin: at the stop frame, or right
  // after it when that is the frame a killed writer had half written (its header, not its page).
  let cutEnd = size;
  if (out.end === "earlier-generation") cutEnd = offset;
  else if (leftoverAt(offset + frameBytes)) cutEnd = offset + frameBytes;
  out.cutBytes = cutEnd - out.validEnd;
  out.cutFrames = Math.ceil(out.cutBytes / frameBytes);
  out.leftoverBytes = size - cutEnd;
  return out;
}

/**
 * Whether the frame at `at` is one SQLite left behind when it rewound the WAL, rather than
 * damage: its salt-1 is a little behind the header's, and the next frame carries the same salts
 * and a checksum that continues from this one's. Garbage passes that with odds of 2^-64; a
 * leftover run of a single frame fails it and is counted as damage.
 */
function isLeftover(
  fd: number,
  at: number,
  frameBytes: number,
  salt1: number,
  littleEndian: boolean,
): boolean {
  const two = new Uint8Array(2 * frameBytes);
  if (readSync(fd, two, 0, two.length, at) < two.length) return false;
  const v = new DataView(two.buffer);
  const behind = (salt1 - v.getUint32(8)) >>> 0;
  if (behind === 0 || behind > EARLIER_GENERATIONS) return false;
  const next = frameBytes;
  if (v.getUint32(next + 8) !== v.getUint32(8) || v.getUint32(next + 12) !== v.getUint32(12)) {
    return false;
  }
  let sum: [number, number] = [v.getUint32(16), v.getUint32(20)];
  sum = walChecksum(two, next, next + 8, littleEndian, sum);
  sum = walChecksum(two, next + FRAME_HEADER_BYTES, two.length, littleEndian, sum);
  return sum[0] === v.getUint32(next + 16) && sum[1] === v.getUint32(next + 20);
}

/** The start-up warning for what recovery cuts off, or undefined when it cuts nothing. */
export function describeWalCut(topic: string, scan: WalScan): string | undefined {
  if (scan.cutBytes === 0) return undefined;
  const at = `at frame ${scan.stopFrame}`;
  // The last frame read as valid; after it the transaction never got its commit frame.
  const last = `no commit frame after frame ${scan.stopFrame - 1}`;
  const why: Record<WalEnd, string> = {
    "end-of-file": last,
    "earlier-generation": `${last}; older frames follow`,
    "short-header": "the WAL header is incomplete",
    "bad-header": "the WAL header is invalid",
    "short-frame": `short frame ${at}`,
    "salt-mismatch": `salt mismatch ${at}`,
    "zero-page": `page number 0 ${at}`,
    "checksum-mismatch": `checksum mismatch ${at}`,
  };
  const what =
    scan.pageSize === 0
      ? "the whole WAL"
      : `${scan.cutFrames} frame${scan.cutFrames === 1 ? "" : "s"}`;
  return (
    `topic '${topic}': cut off ${scan.cutBytes} bytes (${what}) of an unfinished write at the ` +
    `end of the WAL (${why[scan.end]}); everything before it is served`
  );
}
