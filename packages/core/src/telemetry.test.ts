import { describe, expect, it } from "vitest";
import { newSpanId, newTraceId, parseTraceparent, TelemetryHub, traceparentOf, type InvocationRecord } from "./telemetry.js";

describe("trace context", () => {
  it("parses a W3C traceparent and refuses malformed or all-zero ones", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7", flags: "01" });
    // A later version may add fields after the four it shares with version 00.
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")?.flags).toBe("00");
    for (const bad of [undefined, "", "00-xyz-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it("makes ids of the right length that do not repeat", () => {
    const traces = new Set(Array.from({ length: 2000 }, newTraceId));
    const spans = new Set(Array.from({ length: 2000 }, newSpanId));
    expect(traces.size).toBe(2000);
    expect(spans.size).toBe(2000);
    for (const t of traces) expect(t).toMatch(/^[0-9a-f]{32}$/);
    for (const s of spans) expect(s).toMatch(/^[0-9a-f]{16}$/);
    const header = traceparentOf(newTraceId(), newSpanId());
    expect(parseTraceparent(header)).toBeDefined();
  });
});

describe("TelemetryHub", () => {
  it("passes each event to every sink, and a sink that throws does not stop the others", () => {
    const hub = new TelemetryHub();
    const seen: string[] = [];
    hub.subscribe({ invocation: () => { throw new Error("broken sink"); } });
    const off = hub.subscribe({ invocation: (r) => seen.push(`a:${r.function}`), retry: (fn) => seen.push(`a-retry:${fn}`) });
    hub.subscribe({ invocation: (r) => seen.push(`b:${r.function}`) });
    const record = { kind: "invocation", function: "f" } as InvocationRecord;
    hub.invocation(record);
    hub.retry("f");
    off();
    hub.invocation(record);
    expect(seen).toEqual(["a:f", "b:f", "a-retry:f", "b:f"]);
  });
});
