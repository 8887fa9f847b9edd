import { describe, expect, it } from "vitest";
import { createFakeClock } from "./clock.js";
import { tumblingCountWindow } from "./count-windows.js";
import { collect, createPushSource, msg, settle, valueOf, watch, type Msg } from "./push-source.test-util.js";
import { slidingWindow, tumblingWindow } from "./time-windows.js";

describe("window iterators", () => {
  it("pull at most one item ahead of the consumer", async () => {
    let pulls = 0;
    async function* endless(): AsyncGenerator<Msg> {
      for (let i = 0; ; i++) {
        pulls++;
        yield msg(i * 100);
      }
    }
    const it = tumblingCountWindow(endless(), { size: 10 })[Symbol.asyncIterator]();
    await it.next();
    await settle();
    expect(pulls).toBe(10);
    await it.next();
    await settle();
    expect(pulls).toBe(20);
    await it.return();
  });

  it("close the input when the consumer stops early, even with a next() outstanding", async () => {
    const clock = createFakeClock();
    const source = createPushSource<string>();
    const it = tumblingWindow(source, { sizeMs: 1000, time: "arrival", clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push("a");
    await settle();
    clock.advance(1000);
    await first.promise;
    // The window was closed by the clock, so a next() on the input is still waiting.
    await it.return();
    expect(source.returned).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("stop on abort: the pending next() rejects with the reason and the input is closed", async () => {
    const controller = new AbortController();
    const source = createPushSource<Msg>();
    const it = slidingWindow(source, { sizeMs: 1000, slideMs: 500, signal: controller.signal })[Symbol.asyncIterator]();
    const pending = it.next();
    source.push(msg(1));
    await settle();
    controller.abort(new Error("stopping"));
    await expect(pending).rejects.toThrow("stopping");
    expect(source.returned).toBe(true);
  });

  it("reject at once when the signal was already aborted", async () => {
    const signal = AbortSignal.abort(new Error("too late"));
    await expect(collect(tumblingWindow([msg(1)], { sizeMs: 1000, signal }))).rejects.toThrow("too late");
  });

  it("pass on an error of the input", async () => {
    const source = createPushSource<Msg>();
    const it = tumblingWindow(source, { sizeMs: 1000 })[Symbol.asyncIterator]();
    const pending = it.next();
    source.push(msg(1));
    await settle();
    source.fail(new Error("broker gone"));
    await expect(pending).rejects.toThrow("broker gone");
    expect(source.returned).toBe(false);
  });

  it("take sync iterables and async generators alike", async () => {
    async function* gen(): AsyncGenerator<Msg> {
      yield msg(1);
      yield msg(2);
    }
    const fromArray = await collect(tumblingWindow([msg(1), msg(2)], { sizeMs: 10 }));
    const fromGen = await collect(tumblingWindow(gen(), { sizeMs: 10 }));
    expect(fromGen).toEqual(fromArray);
  });

  it("wait in steps when a window ends further away than a timer can reach", async () => {
    const clock = createFakeClock();
    const source = createPushSource<string>();
    const day = 86_400_000;
    const it = tumblingWindow(source, { sizeMs: 30 * day, time: "arrival", clock })[Symbol.asyncIterator]();
    const first = watch(it);
    source.push("a");
    await settle();
    clock.advance(25 * day);
    await settle();
    expect(first.value).toBeUndefined();
    clock.advance(5 * day);
    await settle();
    expect(valueOf(first.value)).toEqual({ start: 0, end: 30 * day, items: ["a"] });
    await it.return();
  });
});
