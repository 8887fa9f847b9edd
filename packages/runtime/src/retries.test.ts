import { RiffError } from "@riff/core";
import { describe, expect, it } from "vitest";
import { backoffMs, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_MAX_MS, FailureBook, isRetriable } from "./retries.js";

describe("backoffMs", () => {
  it("doubles per failure from the base, with half of it jittered, and stops at the cap", () => {
    const low = (n: number) => backoffMs(n, {}, () => 0);
    const high = (n: number) => backoffMs(n, {}, () => 1);
    expect([1, 2, 3].map(low)).toEqual([DEFAULT_RETRY_BASE_MS / 2, DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_BASE_MS * 2]);
    expect([1, 2, 3].map(high)).toEqual([DEFAULT_RETRY_BASE_MS, DEFAULT_RETRY_BASE_MS * 2, DEFAULT_RETRY_BASE_MS * 4]);
    expect(high(40)).toBe(DEFAULT_RETRY_MAX_MS);
    expect(low(40)).toBe(DEFAULT_RETRY_MAX_MS / 2);
  });

  it("never waits zero: a message that failed comes back no sooner than half its backoff", () => {
    for (let n = 1; n < 10; n++) expect(backoffMs(n, { baseMs: 100 }, Math.random)).toBeGreaterThanOrEqual(Math.min(DEFAULT_RETRY_MAX_MS, 100 * 2 ** (n - 1)) / 2);
  });
});

describe("isRetriable", () => {
  it("retries what may heal, not what the function or the content says will not", () => {
    expect(isRetriable(new RiffError("RIFF_FUNCTION_ERROR", "db down", { details: { name: "Error" } }))).toBe(true);
    expect(isRetriable(new RiffError("RIFF_FUNCTION_TIMEOUT", "slow"))).toBe(true);
    expect(isRetriable(new RiffError("RIFF_FUNCTION_ERROR", "bad order", { details: { name: "NonRetriableError" } }))).toBe(false);
    expect(isRetriable(new RiffError("RIFF_CONTENT_TYPE_UNSUPPORTED", "xml"))).toBe(false);
  });
});

describe("FailureBook", () => {
  it("counts a message's failures with the first and last times, until forgotten", () => {
    const book = new FailureBook();
    expect(book.record("t/0@1", 10)).toEqual({ failures: 1, firstFailureAt: 10, lastFailureAt: 10 });
    expect(book.record("t/0@1", 25)).toEqual({ failures: 2, firstFailureAt: 10, lastFailureAt: 25 });
    expect(book.record("t/0@2", 30).failures).toBe(1);
    book.forget("t/0@1");
    expect(book.get("t/0@1")).toBeUndefined();
    expect(book.record("t/0@1", 40).failures).toBe(1);
  });
});
