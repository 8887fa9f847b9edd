import { describe, expect, it } from "vitest";
import { createFakeClock, systemClock } from "./clock.js";

describe("createFakeClock", () => {
  it("fires timers in due order, each at its due time, including timers set while firing", () => {
    const clock = createFakeClock(1000);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(["b", clock.now()]), 200);
    clock.setTimeout(() => {
      fired.push(["a", clock.now()]);
      clock.setTimeout(() => fired.push(["c", clock.now()]), 50);
    }, 100);
    clock.setTimeout(() => fired.push(["b2", clock.now()]), 200);
    const cleared = clock.setTimeout(() => fired.push(["x", clock.now()]), 10);
    clock.clearTimeout(cleared);
    clock.advance(150);
    expect(fired).toEqual([
      ["a", 1100],
      ["c", 1150],
    ]);
    expect(clock.now()).toBe(1150);
    clock.advance(1000);
    expect(fired.slice(2)).toEqual([
      ["b", 1200],
      ["b2", 1200],
    ]);
    expect(clock.now()).toBe(2150);
    expect(clock.pending()).toBe(0);
  });

  it("rejects going back in time", () => {
    expect(() => createFakeClock().advance(-1)).toThrow(RangeError);
  });
});

describe("systemClock", () => {
  it("reads Date.now and sets real timers", async () => {
    expect(typeof systemClock.now()).toBe("number");
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 0));
    const handle = systemClock.setTimeout(() => expect.unreachable(), 0);
    systemClock.clearTimeout(handle);
  });
});
