import { describe, expect, it } from "vitest";
import { decide, type ScaleObservation } from "./autoscaler.js";

const base: ScaleObservation = { current: 0, inFlight: 0, lag: 0, lastActivityAt: 0, idleTimeoutMs: 10_000, maxReplicas: 1 };

describe("decide", () => {
  it("goes from 0 to 1 at once when a message waits", () => {
    expect(decide({ ...base, lag: 1 }, 5).desired).toBe(1);
  });
  it("stays at 0 with no work", () => {
    expect(decide(base, 1_000_000).desired).toBe(0);
  });
  it("honours the idle timeout exactly", () => {
    const running = { ...base, current: 1, lastActivityAt: 1000 };
    expect(decide(running, 1000 + 9_999).desired).toBe(1);
    expect(decide(running, 1000 + 10_000).desired).toBe(0);
  });
  it("never scales to 0 while a message is in flight", () => {
    expect(decide({ ...base, current: 1, inFlight: 1 }, 1_000_000).desired).toBe(1);
  });
});
