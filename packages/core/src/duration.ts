import { RiffError } from "./errors.js";

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration written as a number of milliseconds or as `500ms`, `10s`, `5m`, `2h`, `7d`
 * (also combined: `1m30s`). `what` names the field in the error.
 */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
    let total = 0;
    let consumed = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      total += Number(m[1]) * (UNITS_MS[m[2] ?? "ms"] ?? 1);
      consumed = re.lastIndex;
    }
    if (consumed === text.length && consumed > 0) return total;
  }
  throw new RiffError("RIFF_INVALID_ARGUMENT", `${what}: '${String(value)}' is not a duration`, {
    hint: "write milliseconds (10000) or a number with a unit: 500ms, 10s, 5m, 2h, 7d",
  });
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Parses a byte size: `1048576`, `512KiB`, `1MiB`, `1GiB`, `10MB`. */
export function parseSize(value: unknown, what: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === "string") {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
    const unit = SIZE_UNITS[(m?.[2] ?? "").toLowerCase() || "b"];
    if (m && unit !== undefined) return Math.floor(Number(m[1]) * unit);
  }
  throw new RiffError("RIFF_INVALID_ARGUMENT", `${what}: '${String(value)}' is not a size`, {
    hint: "write bytes (1048576) or a number with a unit: 512KiB, 1MiB, 1GiB",
  });
}

/** Formats milliseconds for people: 850ms, 12.5s, 3m20s, 2h5m, 12h, 7d; a zero second unit is left out. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
  if (ms < 3_600_000) return pair(Math.floor(ms / 60_000), "m", Math.floor((ms % 60_000) / 1000), "s");
  if (ms < 86_400_000) return pair(Math.floor(ms / 3_600_000), "h", Math.floor((ms % 3_600_000) / 60_000), "m");
  return pair(Math.floor(ms / 86_400_000), "d", Math.floor((ms % 86_400_000) / 3_600_000), "h");
}
