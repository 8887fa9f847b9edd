import { describe, expect, it } from "vitest";
import { countBy } from "./aggregates.js";
import { createFakeClock } from "./clock.js";
import { collect, createPushSource, msg, settle, shape, valueOf, watch, type Msg } from "./push-source.test-util.js";
import { slidingWindow, tumblingWindow } from "./time-windows.js";

describe("tumblingWindow", () => {
  it("splits event time into back-to-back windows and flushes the last when the input ends", async () => {
    const items = [msg(0), msg(500), msg(1999), msg(2000), msg(4500)];
    const windows = await collect(tumblingWindow(items, { sizeMs: 2000 }));
    expect(windows.map(shape)).toEqual([
      { start: 0, end: 2000, items: ["m0", "m500", "m1999"] },
      { start: 2000, end: 4000, items: ["m2000"] },
      { start: 4000, end: 6000, items: ["m4500"] },
    ]);
  });

  it("emits a window as soon as an item's time passes its end, not at the end of the input", async () => {
    const source = createPushSource<Msg>();
    const it = tumblingWindow(source, { sizeMs: 2000 })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(100), msg(1900));
    await settle();
    expect(first.value).toBeUndefined();
    source.push(msg(2100));
    expect(shape(valueOf(await first.promise))).toEqual({ start: 0, end: 2000, items: ["m100", "m1900"] });
    source.end();
    expect(shape(valueOf(await it.next()))).toEqual({ start: 2000, end: 4000, items: ["m2100"] });
    expect((await it.next()).done).toBe(true);
  });

  it("skips empty windows", async () => {
    const windows = await collect(tumblingWindow([msg(100), msg(9100)], { sizeMs: 1000 }));
    expect(windows.map((w) => w.start)).toEqual([0, 9000]);
  });

  it("keeps one window per key with the key option", async () => {
    const items = [msg(0, "a"), msg(10, "b"), msg(20, "a"), msg(1500, "b")];
    const windows = await collect(tumblingWindow(items, { sizeMs: 1000, key: (m) => m.payload }));
    expect(windows.map(shape)).toEqual([
      { start: 0, end: 1000, items: ["a", "a"], key: "a" },
      { start: 0, end: 1000, items: ["b"], key: "b" },
      { start: 1000, end: 2000, items: ["b"], key: "b" },
    ]);
  });

  it("types a window's key from the key option, and unkeyed windows have none", async () => {
    for await (const w of tumblingWindow([msg(1)], { sizeMs: 10, key: (m) => m.payload.length })) {
      const key: number = w.key;
      expect(key).toBe(2);
    }
    for await (const w of tumblingWindow([msg(1)], { sizeMs: 10 })) {
      // @ts-expect-error: no key option, no key
      expect(w.key).toBeUndefined();
    }
  });

  it("rejects an item without event time, and bad sizes at call time", async () => {
    await expect(collect(tumblingWindow(["no time"], { sizeMs: 1000 }))).rejects.toThrow(/timestamp/);
    expect(() => tumblingWindow([], { sizeMs: 0 })).toThrow(RangeError);
    expect(() => slidingWindow([], { sizeMs: 1000, slideMs: Number.NaN })).toThrow(RangeError);
  });

  it("reads event time with timeOf", async () => {
    const items = [{ at: 5 }, { at: 15 }];
    const windows = await collect(tumblingWindow(items, { sizeMs: 10, timeOf: (x) => x.at }));
    expect(windows.map((w) => [w.start, w.items.length])).toEqual([
      [0, 1],
      [10, 1],
    ]);
  });
});

describe("slidingWindow", () => {
  it("puts an item in every window that covers it", async () => {
    const items = [msg(500), msg(1500), msg(2500)];
    const windows = await collect(slidingWindow(items, { sizeMs: 2000, slideMs: 1000 }));
    expect(windows.map(shape)).toEqual([
      { start: -1000, end: 1000, items: ["m500"] },
      { start: 0, end: 2000, items: ["m500", "m1500"] },
      { start: 1000, end: 3000, items: ["m1500", "m2500"] },
      { start: 2000, end: 4000, items: ["m2500"] },
    ]);
  });

  it("with slide > size, drops items in the gaps without calling them late", async () => {
    const late: Msg[] = [];
    const items = [msg(100), msg(700), msg(1200)];
    const windows = await collect(slidingWindow(items, { sizeMs: 500, slideMs: 1000, onLate: (m) => late.push(m) }));
    expect(windows.map(shape)).toEqual([
      { start: 0, end: 500, items: ["m100"] },
      { start: 1000, end: 1500, items: ["m1200"] },
    ]);
    expect(late).toEqual([]);
  });

  it("counts words over 60 s sliding every 2 s (the vote example)", async () => {
    const votes = [msg(1000, "yes"), msg(3000, "no"), msg(3500, "yes"), msg(62_500, "no")];
    const tallies = [];
    for await (const w of slidingWindow(votes, { sizeMs: 60_000, slideMs: 2_000 })) {
      tallies.push({ end: w.end, counts: countBy(w.items, (m) => m.payload) });
    }
    // The first window holding the vote at 1 s ends at 2 s; the last one holding it ends at 60 s.
    expect(tallies[0]).toEqual({ end: 2000, counts: { yes: 1 } });
    expect(tallies.find((t) => t.end === 60_000)?.counts).toEqual({ yes: 2, no: 1 });
    expect(tallies.find((t) => t.end === 62_000)?.counts).toEqual({ yes: 1, no: 1 });
    expect(tallies.find((t) => t.end === 64_000)?.counts).toEqual({ no: 1 });
    expect(tallies.map((t) => t.end)).toEqual([...tallies.map((t) => t.end)].sort((a, b) => a - b));
  });
});

describe("late and out-of-order items", () => {
  it("places out-of-order items while their window is open", async () => {
    const windows = await collect(tumblingWindow([msg(1500), msg(200), msg(1999)], { sizeMs: 2000 }));
    expect(windows.map(shape)).toEqual([{ start: 0, end: 2000, items: ["m1500", "m200", "m1999"] }]);
  });

  it("drops an item whose window has closed and reports it", async () => {
    const late: [Msg, number][] = [];
    const items = [msg(100), msg(2500), msg(1500)];
    const windows = await collect(tumblingWindow(items, { sizeMs: 2000, onLate: (m, t) => late.push([m, t]) }));
    expect(windows.map(shape)).toEqual([
      { start: 0, end: 2000, items: ["m100"] },
      { start: 2000, end: 4000, items: ["m2500"] },
    ]);
    expect(late).toEqual([[msg(1500), 1500]]);
  });

  it("keeps windows open for allowedLatenessMs past their end", async () => {
    const late: Msg[] = [];
    const items = [msg(100), msg(2500), msg(1500), msg(3000), msg(1800)];
    const windows = await collect(
      tumblingWindow(items, { sizeMs: 2000, allowedLatenessMs: 1000, onLate: (m) => late.push(m) }),
    );
    expect(windows.map(shape)[0]).toEqual({ start: 0, end: 2000, items: ["m100", "m1500"] });
    expect(late).toEqual([msg(1800)]);
  });

  it("in a sliding window, a late item still joins the windows that are open", async () => {
    const late: Msg[] = [];
    const items = [msg(500), msg(2100), msg(1500)];
    const windows = await collect(slidingWindow(items, { sizeMs: 2000, slideMs: 1000, onLate: (m) => late.push(m) }));
    expect(windows.map(shape)).toContainEqual({ start: 1000, end: 3000, items: ["m2100", "m1500"] });
    expect(windows.map(shape)).toContainEqual({ start: 0, end: 2000, items: ["m500"] });
    expect(late).toEqual([]);
  });
});

describe("time passing without input", () => {
  it("event time: waits for the next item by default, and sets no timer", async () => {
    const clock = createFakeClock();
    const source = createPushSource<Msg>();
    const it = tumblingWindow(source, { sizeMs: 2000, clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(100));
    await settle();
    clock.advance(10_000);
    await settle();
    expect(first.value).toBeUndefined();
    expect(clock.pending()).toBe(0);
    source.end();
    expect(shape(valueOf(await first.promise))).toEqual({ start: 0, end: 2000, items: ["m100"] });
  });

  it("event time with idleFlushMs: after that long without input, event time follows the clock", async () => {
    const clock = createFakeClock(50_000);
    const source = createPushSource<Msg>();
    const it = tumblingWindow(source, { sizeMs: 2000, idleFlushMs: 500, clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(100));
    await settle();
    // The watermark reaches 2000 when 1900 ms have passed since the item: 100 + 1900.
    clock.advance(1899);
    await settle();
    expect(first.value).toBeUndefined();
    clock.advance(1);
    expect(shape(valueOf(await first.promise))).toEqual({ start: 0, end: 2000, items: ["m100"] });
    const second = watch(it);
    source.push(msg(12_000));
    await settle();
    clock.advance(2000);
    expect(shape(valueOf(await second.promise))).toEqual({ start: 12_000, end: 14_000, items: ["m12000"] });
    source.end();
    expect((await it.next()).done).toBe(true);
  });

  it("arrival time: windows follow the clock and close on its timers", async () => {
    const clock = createFakeClock(1000);
    const source = createPushSource<string>();
    const it = tumblingWindow(source, { sizeMs: 2000, time: "arrival", clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push("a");
    await settle();
    clock.advance(500);
    source.push("b");
    await settle();
    clock.advance(499);
    await settle();
    expect(first.value).toBeUndefined();
    clock.advance(1);
    expect(valueOf(await first.promise)).toEqual({ start: 0, end: 2000, items: ["a", "b"] });
    // No input for 10 s, then one item: it lands in the window of its arrival.
    const second = watch(it);
    clock.advance(10_000);
    source.push("c");
    await settle();
    clock.advance(2000);
    expect(valueOf(await second.promise)).toEqual({ start: 12_000, end: 14_000, items: ["c"] });
    source.end();
    expect((await it.next()).done).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("event time and arrival time put the same items in different windows", async () => {
    const items = [msg(100, "a"), msg(5100, "b")];
    const byEvent = await collect(tumblingWindow(items, { sizeMs: 2000 }));
    const clock = createFakeClock(40_000);
    const byArrival = await collect(tumblingWindow(items, { sizeMs: 2000, time: "arrival", clock }));
    expect(byEvent.map((w) => w.start)).toEqual([0, 4000]);
    expect(byArrival.map(shape)).toEqual([{ start: 40_000, end: 42_000, items: ["a", "b"] }]);
  });
});
