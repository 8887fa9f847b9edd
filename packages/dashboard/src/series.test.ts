import { describe, expect, it } from "vitest";
import type { InvocationRecord } from "@riff/core";
import { percentile, SeriesStore } from "./series.js";

const record = (fn: string, status: InvocationRecord["status"], durationMs: number): InvocationRecord => ({
  kind: "invocation", id: "0000000000000001", traceId: "0".repeat(31) + "1", startedAt: 0, durationMs, function: fn, revision: 1,
  topic: "t", partition: 0, offset: 0, status, attempt: 1, cold: false, queueWaitMs: 0, replica: "r1",
});

describe("SeriesStore", () => {
  it("closes one point a second per function, with counts by outcome and percentiles", () => {
    const s = new SeriesStore();
    for (let i = 1; i <= 100; i++) s.sink.invocation?.(record("a", i % 10 === 0 ? "error" : "success", i));
    s.sink.coldStart?.({ function: "a", invoker: "node", initMs: 40 });
    const out = s.tick(5_500, new Map([["a", 2], ["b", 0]]));
    expect(out.get("a")).toEqual({ t: 5, success: 90, error: 10, timeout: 0, p50: 50, p95: 95, p99: 99, replicas: 2, cold: 1 });
    expect(out.get("b")?.p95).toBeNull();
    s.tick(6_500, new Map([["a", 1]]));
    expect(s.get("a").replicas).toEqual([2, 1]);
    expect(s.window("a", 60)).toEqual({ invocations: 100, errors: 10, cold: 1, p95: 95 });
  });

  it("keeps at most its capacity", () => {
    const s = new SeriesStore(3);
    for (let t = 0; t < 5; t++) s.tick(t * 1000, new Map([["a", t]]));
    expect(s.get("a").t).toEqual([2, 3, 4]);
    expect(s.get("a").replicas).toEqual([2, 3, 4]);
  });

  it("keeps scaling decisions for the markers", () => {
    const s = new SeriesStore();
    s.sink.scaling?.({ function: "a", at: 1, from: 0, to: 1, direction: "up", reason: "backlog", why: "lag 5" });
    expect(s.get("a").decisions.map((d) => d.reason)).toEqual(["backlog"]);
  });

  it("percentile is nearest-rank", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
  });
});
