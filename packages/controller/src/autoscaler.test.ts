import { describe, expect, it } from "vitest";
import { decide, type ScaleObservation } from "./autoscaler.js";

const spec = { minReplicas: 0, maxReplicas: 4, idleTimeoutMs: 10_000 };
const base: ScaleObservation = {
  current: 0,
  partitionLag: [0, 0, 0, 0],
  replicaRates: [],
  inFlight: 0,
  arrivalRate: 0,
  lastActivityAt: 0,
  downSince: undefined,
  spec,
};

/** Feeds observations tick by tick with a fake clock, carrying replicas and downSince along. */
function simulate(start: ScaleObservation, ticks: number, stepMs: number, change: (o: ScaleObservation, t: number) => Partial<ScaleObservation>) {
  let o = { ...start };
  const history: number[] = [];
  for (let i = 0, t = 0; i < ticks; i++, t += stepMs) {
    o = { ...o, ...change(o, t) };
    const d = decide(o, t);
    o = { ...o, current: d.desired, downSince: d.downSince };
    history.push(d.desired);
  }
  return history;
}

describe("decide", () => {
  it("goes from 0 to 1 at once on the first message", () => {
    expect(decide({ ...base, partitionLag: [1, 0, 0, 0] }, 5).desired).toBe(1);
  });

  it("scales to one replica per busy partition before any rate is known", () => {
    expect(decide({ ...base, current: 1, partitionLag: [500, 500, 500, 500] }, 0).desired).toBe(4);
  });

  it("sizes for the backlog at the measured rate", () => {
    // 300 waiting, 100 msg/s per replica, drain within 1 s: 3 replicas
    const d = decide({ ...base, current: 1, partitionLag: [100, 100, 100, 0], replicaRates: [100] }, 0);
    expect(d.desired).toBe(3);
  });

  it("a steady overload reaches N and stays there", () => {
    const h = simulate(base, 100, 100, () => ({ partitionLag: [900, 900, 900, 900], replicaRates: [100, 100], inFlight: 16, lastActivityAt: 0 }));
    expect(h[0]).toBe(4);
    expect(h.every((n) => n === 4)).toBe(true);
  });

  it("maxReplicas caps it", () => {
    const capped = { ...base, spec: { ...spec, maxReplicas: 2 } };
    const h = simulate(capped, 50, 100, () => ({ partitionLag: [900, 900, 900, 900], inFlight: 8 }));
    expect(Math.max(...h)).toBe(2);
  });

  it("load that falls back returns to fewer replicas, one at a time", () => {
    const h = simulate({ ...base, current: 4 }, 100, 100, (_o, t) => ({
      partitionLag: [5, 0, 0, 0],
      replicaRates: [500, 500, 500, 500],
      inFlight: 1,
      lastActivityAt: t,
    }));
    expect(h.slice(0, 19).every((n) => n === 4)).toBe(true); // waits 2 s before the first step
    expect(h[20]).toBe(3);
    expect(h.at(-1)).toBe(1);
    for (let i = 1; i < h.length; i++) expect((h[i - 1] ?? 0) - (h[i] ?? 0)).toBeLessThanOrEqual(1);
  });

  it("a brief dip does not scale anything down", () => {
    const h = simulate({ ...base, current: 4 }, 60, 100, (_o, t) => {
      const dip = t >= 2000 && t < 3000;
      return { partitionLag: dip ? [0, 0, 0, 0] : [900, 900, 900, 900], inFlight: dip ? 0 : 16, replicaRates: [100], lastActivityAt: dip ? 2000 : t };
    });
    expect(h.every((n) => n === 4)).toBe(true);
  });

  it("a short burst does not scale to zero before the idle timeout", () => {
    const h = simulate(base, 200, 100, (_o, t) =>
      t < 300 ? { partitionLag: [3, 0, 0, 0], inFlight: 1, lastActivityAt: t } : { partitionLag: [0, 0, 0, 0], inFlight: 0 },
    );
    expect(h.slice(3, 100).every((n) => n === 1)).toBe(true); // 300 ms .. 10 s: still 1
    expect(h.at(-1)).toBe(0);
  });

  it("honours the idle timeout exactly", () => {
    const running = { ...base, current: 1, lastActivityAt: 1000 };
    expect(decide(running, 1000 + 9_999).desired).toBe(1);
    expect(decide(running, 1000 + 10_000).desired).toBe(0);
  });

  it("never scales to 0 while a message is in flight", () => {
    expect(decide({ ...base, current: 1, inFlight: 1 }, 1_000_000).desired).toBe(1);
  });

  it("minReplicas keeps it above zero", () => {
    const warm = { ...base, spec: { ...spec, minReplicas: 1 } };
    expect(decide(warm, 1_000_000).desired).toBe(1);
    expect(decide({ ...warm, current: 1 }, 1_000_000).desired).toBe(1);
  });
});
