import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import type { InvocationRecord, RequestSpan } from "@riff/core";
import { TelemetryMetrics } from "./telemetry-metrics.js";

const invocation = (fn: string, status: InvocationRecord["status"], trigger: InvocationRecord["trigger"] = "pubsub") => ({ kind: "invocation", function: fn, status, trigger, durationMs: 20, queueWaitMs: 5 }) as InvocationRecord;
const request = (topic: string, code: number) => ({ kind: "request", path: "messages", topic, code, durationMs: 3 }) as RequestSpan;

function setUp() {
  const registry = new Registry();
  let settled = 0;
  const metrics = new TelemetryMetrics(registry, async () => void settled++);
  return { registry, metrics, settled: () => settled };
}

describe("TelemetryMetrics", () => {
  it("counts each event on its function's series", async () => {
    const { registry, metrics } = setUp();
    metrics.invocation(invocation("f", "success"));
    metrics.invocation(invocation("f", "success"));
    metrics.invocation(invocation("f", "timeout"));
    metrics.invocation(invocation("f", "success", "http"));
    metrics.coldStart({ function: "f", invoker: "node", initMs: 150 });
    metrics.retry("f");
    metrics.deadLetter("f", "RIFF_FUNCTION_ERROR");
    metrics.scaling({ function: "f", at: 0, from: 0, to: 2, direction: "up", reason: "backlog", why: "" });
    metrics.request(request("t", 202));
    metrics.request(request("", 404));
    const text = await registry.metrics();
    for (const line of [
      'riff_function_invocations_total{function="f",outcome="success"} 3',
      'riff_function_invocations_total{function="f",outcome="timeout"} 1',
      'riff_function_invocations_total{function="f",outcome="error"} 0',
      'riff_function_invoke_duration_seconds_bucket{le="0.025",function="f",trigger="pubsub"} 3',
      'riff_function_invoke_duration_seconds_bucket{le="0.025",function="f",trigger="http"} 1',
      'riff_function_queue_wait_seconds_sum{function="f"} 0.02',
      'riff_function_coldstarts_total{function="f",invoker="node"} 1',
      'riff_function_init_duration_seconds_sum{function="f",invoker="node"} 0.15',
      'riff_function_retries_total{function="f"} 1',
      'riff_function_deadlettered_total{function="f",reason="RIFF_FUNCTION_ERROR"} 1',
      'riff_autoscaler_decisions_total{function="f",direction="up",reason="backlog"} 1',
      'riff_gateway_requests_total{topic="t",path="messages",code="202"} 1',
      'riff_gateway_requests_total{topic="",path="messages",code="404"} 1',
    ]) expect(text).toContain(line);
  });

  it("drops every series of a function or topic that is gone, keeps the others and the unknown topic", async () => {
    const { registry, metrics } = setUp();
    for (const fn of ["gone", "kept"]) {
      metrics.invocation(invocation(fn, "error"));
      metrics.coldStart({ function: fn, invoker: "node", initMs: 1 });
      metrics.deadLetter(fn, "RIFF_FUNCTION_ERROR");
      metrics.scaling({ function: fn, at: 0, from: 1, to: 0, direction: "down", reason: "idle", why: "" });
    }
    metrics.request(request("gone-topic", 202));
    metrics.request(request("kept-topic", 202));
    metrics.request(request("", 404));
    metrics.retainFunctions(new Map([["kept", "node"], ["new", "python3"]]));
    metrics.retainTopics(new Set(["kept-topic"]));
    const text = await registry.metrics();
    expect(text).not.toMatch(/"gone/);
    expect(text).toContain('riff_function_deadlettered_total{function="kept",reason="RIFF_FUNCTION_ERROR"} 1');
    expect(text).toContain('riff_function_invocations_total{function="new",outcome="success"} 0');
    // Its first cold start and scaling decision count from 0 too, for increase() and rate().
    expect(text).toContain('riff_function_coldstarts_total{function="new",invoker="python3"} 0');
    expect(text).toContain('riff_autoscaler_decisions_total{function="new",direction="up",reason="started"} 0');
    expect(text).toContain('riff_gateway_requests_total{topic="kept-topic",path="messages",code="202"} 1');
    expect(text).toContain('riff_gateway_requests_total{topic="",path="messages",code="404"} 1');
    // A function that comes back starts again from nothing.
    metrics.invocation(invocation("gone", "success"));
    expect(await registry.metrics()).toContain('riff_function_invocations_total{function="gone",outcome="success"} 1');
  });

  it("settles the scrape before its metrics are read", async () => {
    const { registry, settled } = setUp();
    await registry.metrics();
    expect(settled()).toBeGreaterThan(0);
  });
});
