import { describe, expect, it } from "vitest";
import { createFakeClock } from "./clock.js";
import { collect, createPushSource, msg, settle, shape, valueOf, watch, type Msg } from "./push-source.test-util.js";
import { sessionWindow } from "./session-windows.js";

describe("sessionWindow", () => {
  it("closes a session after a gap of inactivity", async () => {
    const items = [msg(0), msg(1000), msg(2000), msg(10_000), msg(10_500)];
    const windows = await collect(sessionWindow(items, { gapMs: 3000 }));
    expect(windows.map(shape)).toEqual([
      { start: 0, end: 5000, items: ["m0", "m1000", "m2000"] },
      { start: 10_000, end: 13_500, items: ["m10000", "m10500"] },
    ]);
  });

  it("splits at a gap of exactly gapMs", async () => {
    const windows = await collect(sessionWindow([msg(0), msg(3000)], { gapMs: 3000 }));
    expect(windows.map((w) => [w.start, w.end])).toEqual([
      [0, 3000],
      [3000, 6000],
    ]);
  });

  it("emits a session when a later item shows the gap has passed", async () => {
    const source = createPushSource<Msg>();
    const it = sessionWindow(source, { gapMs: 3000 })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(0), msg(2999));
    await settle();
    expect(first.value).toBeUndefined();
    // Less than the gap after the last item: the same session.
    source.push(msg(5998));
    await settle();
    expect(first.value).toBeUndefined();
    source.push(msg(9000));
    expect(shape(valueOf(await first.promise))).toEqual({ start: 0, end: 8998, items: ["m0", "m2999", "m5998"] });
    source.end();
    expect(shape(valueOf(await it.next()))).toEqual({ start: 9000, end: 12_000, items: ["m9000"] });
  });

  it("keeps a session per key", async () => {
    type Click = Msg & { user: string };
    const click = (timestamp: number, user: string): Click => ({ ...msg(timestamp), user });
    const items = [click(0, "ann"), click(1000, "bob"), click(1500, "ann"), click(4500, "bob"), click(9000, "ann")];
    const windows = await collect(sessionWindow(items, { gapMs: 2000, key: (c) => c.user }));
    expect(windows.map((w) => [w.key, w.start, w.end, w.items.length])).toEqual([
      ["bob", 1000, 3000, 1],
      ["ann", 0, 3500, 2],
      ["bob", 4500, 6500, 1],
      ["ann", 9000, 11_000, 1],
    ]);
  });

  it("an out-of-order item that bridges two open sessions joins them", async () => {
    const items = [msg(0), msg(5000), msg(2500)];
    const windows = await collect(sessionWindow(items, { gapMs: 3000, allowedLatenessMs: 10_000 }));
    expect(windows.map(shape)).toEqual([{ start: 0, end: 8000, items: ["m0", "m5000", "m2500"] }]);
  });

  it("drops an item whose session would already have closed", async () => {
    const late: Msg[] = [];
    const items = [msg(10_000), msg(1000), msg(8000)];
    const windows = await collect(sessionWindow(items, { gapMs: 3000, onLate: (m) => late.push(m) }));
    expect(late).toEqual([msg(1000)]);
    expect(windows.map(shape)).toEqual([{ start: 8000, end: 13_000, items: ["m10000", "m8000"] }]);
  });

  it("arrival time: closes a session on the clock when no input comes", async () => {
    const clock = createFakeClock();
    const source = createPushSource<string>();
    const it = sessionWindow(source, { gapMs: 1000, time: "arrival", clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push("a");
    await settle();
    clock.advance(900);
    source.push("b");
    await settle();
    clock.advance(999);
    await settle();
    expect(first.value).toBeUndefined();
    clock.advance(1);
    expect(valueOf(await first.promise)).toEqual({ start: 0, end: 1900, items: ["a", "b"] });
    const next = watch(it);
    source.end();
    expect((await next.promise).done).toBe(true);
  });

  it("event time with idleFlushMs: the last session closes though no item follows", async () => {
    const clock = createFakeClock();
    const source = createPushSource<Msg>();
    const it = sessionWindow(source, { gapMs: 1000, idleFlushMs: 200, clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push(msg(70_000));
    await settle();
    clock.advance(999);
    await settle();
    expect(first.value).toBeUndefined();
    clock.advance(1);
    expect(shape(valueOf(await first.promise))).toEqual({ start: 70_000, end: 71_000, items: ["m70000"] });
    await it.return();
    expect(source.returned).toBe(true);
  });
});
