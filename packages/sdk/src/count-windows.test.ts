import { describe, expect, it } from "vitest";
import { createFakeClock } from "./clock.js";
import { slidingCountWindow, tumblingCountWindow } from "./count-windows.js";
import { collect, createPushSource, msg, settle, valueOf, watch, type Msg } from "./push-source.test-util.js";

const numbers = (n: number): Msg[] => Array.from({ length: n }, (_, i) => msg((i + 1) * 100, String(i + 1)));
const payloads = (windows: { items: Msg[] }[]) => windows.map((w) => w.items.map((m) => m.payload).join(""));

describe("tumblingCountWindow", () => {
  it("groups every `size` items and flushes the unfilled last window", async () => {
    const windows = await collect(tumblingCountWindow(numbers(7), { size: 3 }));
    expect(payloads(windows)).toEqual(["123", "456", "7"]);
    // start and end are the first and last item's times.
    expect(windows.map((w) => [w.start, w.end])).toEqual([
      [100, 300],
      [400, 600],
      [700, 700],
    ]);
  });

  it("emits a window with its last item, without waiting for more", async () => {
    const source = createPushSource<Msg>();
    const it = tumblingCountWindow(source, { size: 2 })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(1, "a"));
    await settle();
    expect(first.value).toBeUndefined();
    source.push(msg(2, "b"));
    expect(valueOf(await first.promise).items.map((m) => m.payload)).toEqual(["a", "b"]);
    source.end();
    expect((await it.next()).done).toBe(true);
  });

  it("counts per key", async () => {
    const items = ["a1", "b1", "a2", "a3", "b2", "b3", "a4"].map((p, i) => msg(i, p));
    const windows = await collect(tumblingCountWindow(items, { size: 2, key: (m) => m.payload[0] }));
    expect(windows.map((w) => [w.key, w.items.map((m) => m.payload).join(",")])).toEqual([
      ["a", "a1,a2"],
      ["b", "b1,b2"],
      ["a", "a3,a4"],
      ["b", "b3"],
    ]);
  });

  it("gives items without event time their arrival time", async () => {
    const clock = createFakeClock(5000);
    const windows = await collect(tumblingCountWindow(["x", "y"], { size: 2, clock }));
    expect(windows).toEqual([{ start: 5000, end: 5000, items: ["x", "y"] }]);
  });

  it("rejects sizes that are not whole numbers >= 1", () => {
    expect(() => tumblingCountWindow([], { size: 0 })).toThrow(RangeError);
    expect(() => slidingCountWindow([], { size: 3, slide: 1.5 })).toThrow(RangeError);
  });
});

describe("slidingCountWindow", () => {
  it("puts an item in several windows, and does not repeat the tail when the input ends", async () => {
    expect(payloads(await collect(slidingCountWindow(numbers(5), { size: 3, slide: 1 })))).toEqual(["123", "234", "345"]);
  });

  it("emits the oldest unfilled window at the end when it holds new items", async () => {
    expect(payloads(await collect(slidingCountWindow(numbers(4), { size: 3, slide: 2 })))).toEqual(["123", "34"]);
    expect(payloads(await collect(slidingCountWindow(numbers(2), { size: 3, slide: 1 })))).toEqual(["12"]);
  });

  it("with slide > size, skips the items between windows", async () => {
    expect(payloads(await collect(slidingCountWindow(numbers(8), { size: 2, slide: 3 })))).toEqual(["12", "45", "78"]);
    expect(payloads(await collect(slidingCountWindow(numbers(6), { size: 2, slide: 3 })))).toEqual(["12", "45"]);
  });
});
