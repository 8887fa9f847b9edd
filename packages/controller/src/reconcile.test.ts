import { describe, expect, it } from "vitest";
import type { StoredFunction } from "./function-spec.js";
import { reconcileFunction, type DesiredFunction, type ObservedFunction } from "./reconcile.js";

function fn(overrides: Partial<StoredFunction> = {}): StoredFunction {
  return {
    name: "square",
    invoker: "node",
    inputs: ["numbers"],
    output: undefined,
    handler: undefined,
    artifact: "/src/square.js",
    maxReplicas: undefined,
    minReplicas: 0,
    idleTimeoutMs: 10_000,
    timeoutMs: 60_000,
    concurrency: 16,
    ordering: "partition",
    allowCycle: false,
    replyFrom: "self",
    env: {},
    source: "/src/square-function.yaml",
    revision: 1,
    digest: "abc",
    entry: "square.js",
    createdAt: "t",
    updatedAt: "t",
    ...overrides,
  };
}

const local = (f: StoredFunction): DesiredFunction => ({ fn: f, membership: { weight: 1 } });
const running = (f: StoredFunction, extra: Partial<ObservedFunction> = {}): ObservedFunction => ({
  fn: f,
  membership: { weight: 1 },
  placementGeneration: undefined,
  ...extra,
});

describe("reconcileFunction", () => {
  it("starts a new function and joins its groups; does nothing once it runs", () => {
    expect(reconcileFunction(local(fn()), undefined)).toEqual([
      { type: "start", fn: fn() },
      { type: "join", name: "square", weight: 1 },
    ]);
    expect(reconcileFunction(local(fn()), running(fn()))).toEqual([]);
  });

  it("stops a function that is no longer desired, and nothing when neither is", () => {
    expect(reconcileFunction(undefined, running(fn()))).toEqual([{ type: "stop", name: "square" }]);
    expect(reconcileFunction(undefined, undefined)).toEqual([]);
  });

  it("rolls new code or settings, but replaces the runner when its topics change", () => {
    const next = fn({ revision: 2, digest: "def" });
    expect(reconcileFunction(local(next), running(fn()))).toEqual([{ type: "roll", fn: next }]);
    const moved = fn({ revision: 2, inputs: ["other"] });
    expect(reconcileFunction(local(moved), running(fn()))).toEqual([
      { type: "replace", fn: moved },
      { type: "join", name: "square", weight: 1 },
    ]);
    const unordered = fn({ revision: 2, ordering: "none" });
    expect(reconcileFunction(local(unordered), running(fn()))[0]?.type).toBe("replace");
  });

  it("rolls to the store's revision when this node runs another of the same number (a lost apply race)", () => {
    const winner = fn({ revision: 2, digest: "two" });
    expect(reconcileFunction(local(winner), running(fn({ revision: 2, digest: "one" })))).toEqual([{ type: "roll", fn: winner }]);
    expect(reconcileFunction(local(winner), running(fn({ revision: 2, digest: "two", timeoutMs: 5 })))).toEqual([{ type: "roll", fn: winner }]);
    expect(reconcileFunction(local(winner), running(fn({ revision: 2, digest: "two" })))).toEqual([]);
  });

  it("follows a placement: joins with its weight, leaves when not placed, scales once per generation", () => {
    const placed: DesiredFunction = { fn: fn(), membership: { weight: 2 }, replicas: { count: 2, generation: 7 } };
    expect(reconcileFunction(placed, running(fn(), { membership: undefined }))).toEqual([
      { type: "join", name: "square", weight: 2 },
      { type: "scale", name: "square", replicas: 2, generation: 7 },
    ]);
    // Applied already: a replica the runner started by itself for a message is left alone.
    expect(reconcileFunction(placed, running(fn(), { membership: { weight: 2 }, placementGeneration: 7 }))).toEqual([]);
    const unplaced: DesiredFunction = { fn: fn(), membership: undefined, replicas: { count: 0, generation: 8 } };
    expect(reconcileFunction(unplaced, running(fn(), { membership: { weight: 2 }, placementGeneration: 7 }))).toEqual([
      { type: "leave", name: "square" },
      { type: "scale", name: "square", replicas: 0, generation: 8 },
    ]);
  });

  it("after replacing a runner, joins and applies the placement again", () => {
    const moved = fn({ revision: 2, inputs: ["other"] });
    const placed: DesiredFunction = { fn: moved, membership: { weight: 1 }, replicas: { count: 1, generation: 3 } };
    expect(reconcileFunction(placed, running(fn(), { placementGeneration: 3 }))).toEqual([
      { type: "replace", fn: moved },
      { type: "join", name: "square", weight: 1 },
      { type: "scale", name: "square", replicas: 1, generation: 3 },
    ]);
  });
});
