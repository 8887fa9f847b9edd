import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationRecord, Span } from "@riff/core";
import { startTestNatsServer, type TestNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { deployNode } from "./helpers/functions.js";
import { startRiff, tailN, type RiffFixture } from "./helpers/riff.js";
import { until } from "./helpers/until.js";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** The trace id and span id the gateway answered with (W3C `traceresponse`). */
function traceOf(res: Response): { traceId: string; spanId: string } {
  const m = TRACEPARENT.exec(res.headers.get("traceresponse") ?? "");
  if (m === null) throw new Error(`no traceresponse header: ${res.headers.get("traceresponse")}`);
  return { traceId: m[1] as string, spanId: m[2] as string };
}

async function api<T>(riff: RiffFixture, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${riff.url}/api/v1/${path}`, { ...init, headers: { authorization: `Bearer ${riff.token}`, ...init.headers } });
  return { status: res.status, body: (await res.json()) as T };
}

/** The function's invocation records once `n` are kept (each is written just after its run ends). */
function recordsOf(riff: RiffFixture, fn: string, n: number, status?: string): Promise<InvocationRecord[]> {
  return until(`${n} invocation record(s) of ${fn}`, async () => {
    const { body } = await api<{ invocations: InvocationRecord[] }>(riff, `invocations?function=${fn}${status === undefined ? "" : `&status=${status}`}`);
    return body.invocations.length >= n ? body.invocations : undefined;
  });
}

describe("invocation records and traces", () => {
  let riff: RiffFixture;
  beforeAll(async () => {
    riff = await startRiff();
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("a three-stage pipeline gives one trace of four spans, and riff trace prints it as a waterfall", async () => {
    for (const [name, input, output] of [["tr-one", "tr-in", "tr-a"], ["tr-two", "tr-a", "tr-b"], ["tr-three", "tr-b", "tr-out"]] as const) {
      expect((await deployNode(riff, name, `module.exports = (x) => x + "-${name.slice(3)}";\n`, ["--input", input, "--output", output])).code).toBe(0);
    }
    const res = await fetch(`${riff.url}/messages/tr-in`, { method: "POST", body: "m" });
    expect(res.status).toBe(202);
    const { traceId, spanId } = traceOf(res);
    const [out] = await tailN(riff.home, "tr-out", 1);
    expect(out?.payload).toBe("m-one-two-three");
    // The output carries the trace on, with the last function's span as its parent.
    expect(out?.headers["traceparent"]?.[0]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    const spans = await until("the trace's four spans", async () => {
      const { body } = await api<{ spans: Span[] }>(riff, `traces/${traceId}`);
      return body.spans?.length === 4 ? body.spans : undefined;
    });
    const [request, ...invocations] = spans;
    expect(request).toMatchObject({ kind: "request", id: spanId, path: "messages", topic: "tr-in", code: 202 });
    expect(request?.parentId).toBeUndefined();
    // Each function's span follows the one before it: gateway -> one -> two -> three.
    expect(invocations.map((s) => (s.kind === "invocation" ? s.function : s.kind))).toEqual(["tr-one", "tr-two", "tr-three"]);
    expect(invocations.map((s) => s.parentId)).toEqual([spanId, invocations[0]?.id, invocations[1]?.id]);
    for (const s of invocations) expect(s).toMatchObject({ kind: "invocation", status: "success", attempt: 1, traceId });

    const printed = await riff.cli(["trace", traceId]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`trace ${traceId}: 4 span(s)`);
    const lines = printed.stdout.split("\n");
    // A tree: the request, then each function indented under the one it follows.
    expect(lines[2]).toMatch(/^POST \/messages\/tr-in\s+202/);
    expect(lines[3]).toMatch(/^ {2}tr-one tr-in\/0@0\s+success/);
    expect(lines[4]).toMatch(/^ {4}tr-two tr-a\/0@0\s+success/);
    expect(lines[5]).toMatch(/^ {6}tr-three tr-b\/0@0\s+success/);
    expect(lines.slice(2, 6).every((l) => l.includes("█"))).toBe(true);
    // An invocation's id finds its trace too.
    expect((await riff.cli(["trace", invocations[1]?.id ?? ""])).stdout).toContain(`trace ${traceId}: 4 span(s)`);
  });

  it("keeps a caller's own traceparent: same trace, the caller's span as the parent", async () => {
    expect((await deployNode(riff, "tp-echo", "module.exports = (x) => x;\n", ["--input", "tp-in"])).code).toBe(0);
    const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
    const res = await fetch(`${riff.url}/requests/tp-in`, { method: "POST", body: "hi", headers: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` } });
    expect(await res.text()).toBe("hi");
    const { traceId, spanId } = traceOf(res);
    expect(traceId).toBe(caller.traceId);
    const spans = await until("both spans", async () => {
      const { body } = await api<{ spans: Span[] }>(riff, `traces/${caller.traceId}`);
      return body.spans?.length === 2 ? body.spans : undefined;
    });
    expect(spans[0]).toMatchObject({ kind: "request", id: spanId, parentId: caller.spanId, path: "requests", code: 200 });
    expect(spans[1]).toMatchObject({ kind: "invocation", function: "tp-echo", parentId: spanId });
    // A malformed one starts a new trace rather than failing the request.
    const bad = await fetch(`${riff.url}/requests/tp-in`, { method: "POST", body: "x", headers: { traceparent: "00-zzz-1-01" } });
    expect(bad.status).toBe(200);
    expect(traceOf(bad).traceId).not.toBe(caller.traceId);
  });

  it("records each invocation: riff invocations lists them, filters by status, and keeps a failed run's input to show and run again", async () => {
    const src = "module.exports = (x) => { if (x.startsWith('bad')) throw new Error('refused ' + x); return x.toUpperCase(); };\n";
    expect((await deployNode(riff, "rec-fn", src, ["--input", "rec-in"])).code).toBe(0);
    expect((await riff.cli(["publish", "--input", "rec-in", "--data", "good", "--reply"])).stdout).toBe("GOOD\n");
    const failed = await riff.cli(["publish", "--input", "rec-in", "--data", "bad-1", "--reply"]);
    expect(failed.code).not.toBe(0);
    const all = await recordsOf(riff, "rec-fn", 2);
    expect(all.map((r) => r.status)).toEqual(["error", "success"]);
    const [bad, good] = all as [InvocationRecord, InvocationRecord];
    expect(good).toMatchObject({ function: "rec-fn", revision: 1, topic: "rec-in", partition: 0, offset: 0, attempt: 1, replica: expect.stringMatching(/^rec-fn-1-\d+$/) });
    expect(good.queueWaitMs).toBeGreaterThanOrEqual(0);
    expect(good.durationMs).toBeGreaterThan(0);
    expect(good.error).toBeUndefined();
    expect(bad.error).toEqual({ code: "RIFF_FUNCTION_ERROR", message: expect.stringContaining("refused bad-1") });
    // Lists stay light: the input is in the single record only.
    expect(bad.payload).toBeUndefined();

    const json = await riff.cli(["invocations", "rec-fn", "--status", "error", "-o", "json"]);
    expect(json.code).toBe(0);
    const errors = JSON.parse(json.stdout) as InvocationRecord[];
    expect(errors.map((r) => r.id)).toEqual([bad.id]);
    const table = await riff.cli(["invocations", "rec-fn"]);
    expect(table.stdout).toMatch(/^ID\s+STARTED\s+STATUS\s+ATTEMPT\s+START\s+QUEUED\s+DURATION\s+ERROR/);
    expect(table.stdout).toContain(bad.id);
    expect(table.stdout).toContain("RIFF_FUNCTION_ERROR: refused bad-1");

    const shown = await riff.cli(["invocation", bad.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^function\s+rec-fn \(revision 1\)$/m);
    expect(shown.stdout).toMatch(/^error\s+RIFF_FUNCTION_ERROR: .*refused bad-1/m);
    expect(shown.stdout).toContain("input (text/plain, 5 bytes; run it again with riff invocation");
    expect(shown.stdout.trimEnd().endsWith("bad-1")).toBe(true);

    const rerun = await riff.cli(["invocation", bad.id, "--rerun"]);
    expect(rerun.stdout).toMatch(/^published the input of [0-9a-f]{16} again to rec-in\/0@2$/m);
    const again = await recordsOf(riff, "rec-fn", 2, "error");
    expect(again[0]).toMatchObject({ offset: 2, status: "error", error: { code: "RIFF_FUNCTION_ERROR" } });
    expect(again[0]?.traceId).not.toBe(bad.traceId);
    // A success kept no input: nothing to run again.
    const refused = await riff.cli(["invocation", good.id, "--rerun"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("did not fail, so its input was not kept");
  });

  it("marks the first call after scale-to-zero cold, with its replica's start time, and the next warm", async () => {
    expect((await deployNode(riff, "cold-fn", "module.exports = (x) => x;\n", ["--input", "cold-in", "--idle-timeout", "300ms"])).code).toBe(0);
    await until("cold-fn scaled to zero", async () => {
      const { body } = await api<{ replicas: unknown[] }>(riff, "functions/cold-fn");
      return body.replicas.length === 0;
    });
    // Both sent at once, so both wait for the one replica the first starts (a second sent later
    // could find it scaled to zero again): the first dispatched ran cold, the other did not.
    const replies = await Promise.all(["1", "2"].map((body) => fetch(`${riff.url}/requests/cold-in`, { method: "POST", body, headers: { "x-riff-key": "k" } }).then((r) => r.text())));
    expect(replies.sort()).toEqual(["1", "2"]);
    const records = await recordsOf(riff, "cold-fn", 2);
    const [first, second] = [...records].sort((a, b) => a.offset - b.offset) as [InvocationRecord, InvocationRecord];
    expect(first).toMatchObject({ offset: 0, cold: true, trigger: "http" });
    expect(first.initMs).toBeGreaterThan(0);
    expect(second).toMatchObject({ offset: 1, cold: false });
    expect(second.initMs).toBeUndefined();
    expect((await riff.cli(["invocations", "cold-fn"])).stdout).toMatch(/cold \d/);
  });

  it("keeps only the failures of a trace the caller did not sample (W3C flags 00)", async () => {
    expect((await deployNode(riff, "unsampled", "module.exports = (x) => { if (x === 'boom') throw new Error('boom'); return x; };\n", ["--input", "uns-in"])).code).toBe(0);
    const call = (body: string, traceId: string) =>
      fetch(`${riff.url}/requests/uns-in`, { method: "POST", body, headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
    const ok = await call("fine", "1bf92f3577b34da6a3ce929d0e0e4736");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("traceresponse")).toMatch(/-00$/);
    expect((await call("boom", "2bf92f3577b34da6a3ce929d0e0e4736")).status).toBe(500);
    const [failed] = await recordsOf(riff, "unsampled", 1);
    expect(failed).toMatchObject({ status: "error", sampled: false, traceId: "2bf92f3577b34da6a3ce929d0e0e4736" });
    // The success left nothing: its trace was not sampled.
    const { body } = await api<{ invocations: InvocationRecord[] }>(riff, "invocations?function=unsampled");
    expect(body.invocations.map((r) => r.traceId)).toEqual(["2bf92f3577b34da6a3ce929d0e0e4736"]);
    expect((await api(riff, "traces/1bf92f3577b34da6a3ce929d0e0e4736")).status).toBe(404);
  });

  it("answers bad queries with the field at fault, and unknown ids with RIFF_RECORD_NOT_FOUND", async () => {
    const bad = await api<{ error: { code: string; message: string; details?: { field?: string } } }>(riff, "invocations?status=broken");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "RIFF_INVALID_ARGUMENT", details: { field: "status" } });
    expect(bad.body.error.message).toContain("status must be one of success, error, timeout");
    for (const q of ["limit=0", "limit=abc", "limit=1001", "before=yesterday", "function=Not_A_Name"]) {
      expect((await api(riff, `invocations?${q}`)).status).toBe(400);
    }
    const missing = await api<{ error: { code: string } }>(riff, "invocations/0123456789abcdef");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("RIFF_RECORD_NOT_FOUND");
    expect((await api<{ error: { code: string } }>(riff, "traces/0123456789abcdef0123456789abcdef")).body.error.code).toBe("RIFF_RECORD_NOT_FOUND");
    // A name with no records and no function is a typo to point out, as every other command does.
    const typo = await riff.cli(["invocations", "sqaure"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("function 'sqaure' does not exist");
    expect(typo.stderr).toContain("(RIFF_FUNCTION_NOT_FOUND)");
    const cli = await riff.cli(["trace", "nope"]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain("'nope' is not a trace id (32 hex digits) or an invocation id (16)");
    // riff's own topic takes no publishes and cannot be deleted.
    const post = await fetch(`${riff.url}/messages/riff-invocations`, { method: "POST", body: "{}" });
    expect(post.status).toBe(409);
    expect(((await post.json()) as { error: { code: string } }).error.code).toBe("RIFF_TOPIC_PROTECTED");
    const del = await riff.cli(["topics", "delete", "riff-invocations"]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toContain("holds riff's invocation records");
  });
});

describe("invocation records: bounds and modes", () => {
  it("keeps only the newest --records-max spans, for --records-max-age, and none with --records-max 0", async () => {
    await using riff = await startRiff(["--records-max", "6", "--records-max-age", "2h"]);
    expect((await deployNode(riff, "few", "module.exports = (x) => x;\n", ["--input", "few-in"])).code).toBe(0);
    for (let i = 0; i < 5; i++) expect((await riff.cli(["publish", "--input", "few-in", "--data", String(i), "--reply"])).code).toBe(0);
    // Five requests and five invocations were recorded; six spans are kept: three of each.
    const kept = await recordsOf(riff, "few", 3);
    expect(kept.map((r) => r.offset)).toEqual([4, 3, 2]);
    const topic = JSON.parse((await riff.cli(["topics", "describe", "riff-invocations", "-o", "json"])).stdout) as { retentionMs: number };
    expect(topic.retentionMs).toBe(2 * 60 * 60 * 1000);

    await using off = await startRiff(["--records-max", "0"]);
    const res = await fetch(`${off.url}/api/v1/invocations`, { headers: { authorization: `Bearer ${off.token}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RIFF_RECORDS_OFF");
    const bad = await startRiff(["--records-max", "-1"]).then(() => undefined, (e: unknown) => e as Error);
    expect(bad?.message).toContain("--records-max");
  });

  it("past --records-rate, new traces are not sampled: their successes leave no record, every sampled trace is whole", async () => {
    await using riff = await startRiff(["--records-rate", "1"]);
    expect((await deployNode(riff, "rated", "module.exports = (x) => x;\n", ["--input", "rated-in"])).code).toBe(0);
    // 20 at once against 1 trace a second: the first is sampled, most of the others cannot be.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${riff.url}/requests/rated-in`, { method: "POST", body: String(i) })));
    const flags = answers.map((r) => ({ traceId: traceOf(r).traceId, sampled: /-01$/.test(r.headers.get("traceresponse") ?? "") }));
    const sampled = flags.filter((f) => f.sampled);
    expect(sampled.length).toBeGreaterThanOrEqual(1);
    expect(sampled.length).toBeLessThan(20);
    const records = await recordsOf(riff, "rated", sampled.length);
    expect(records.map((r) => r.traceId).sort()).toEqual(sampled.map((f) => f.traceId).sort());
    const [first] = sampled;
    expect((await api<{ spans: Span[] }>(riff, `traces/${first?.traceId ?? ""}`)).body.spans).toHaveLength(2);
    const bad = await startRiff(["--records-rate", "-3"]).then(() => undefined, (e: unknown) => e as Error);
    expect(bad?.message).toContain("--records-rate");
  });

  describe("on NATS", () => {
    let nats: TestNatsServer;
    beforeAll(async () => {
      nats = await startTestNatsServer();
    });
    afterAll(async () => nats.stop());

    it("records and traces work the same with the topics on NATS JetStream", async () => {
      await using riff = await startRiff(["--broker", nats.url]);
      expect((await deployNode(riff, "nsq", "module.exports = (x) => x * x;\n", ["--input", "nsq-in"])).code).toBe(0);
      const res = await fetch(`${riff.url}/requests/nsq-in`, { method: "POST", body: "7" });
      expect(await res.text()).toBe("49");
      const [record] = await recordsOf(riff, "nsq", 1);
      expect(record).toMatchObject({ function: "nsq", status: "success", topic: "nsq-in", traceId: traceOf(res).traceId });
      expect((await riff.cli(["trace", traceOf(res).traceId])).stdout).toContain("2 span(s)");
    });
  });
});

describe("OTLP export", () => {
  it("sends the spans, with riff's ids and parents, to the collector --otlp-endpoint names; a bad URL is refused naming the flag", async () => {
    // The collector's side of OTLP/HTTP: what riff sent, as JSON.
    const received: { resourceSpans: { resource: { attributes: OtlpAttr[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] }[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/v1/traces" && req.headers["content-type"] === "application/json") received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    try {
      await using riff = await startRiff(["--otlp-endpoint", endpoint]);
      expect((await deployNode(riff, "ot-fn", "module.exports = (x) => { if (x === 'boom') throw new Error('boom'); return x; };\n", ["--input", "ot-in"])).code).toBe(0);
      const ok = await fetch(`${riff.url}/requests/ot-in`, { method: "POST", body: "hi" });
      expect(await ok.text()).toBe("hi");
      const failed = await fetch(`${riff.url}/requests/ot-in`, { method: "POST", body: "boom" });
      expect(failed.status).toBe(500);
      const spans = () => received.flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
      const { traceId, spanId } = traceOf(ok);
      const [request, invocation] = await until("both spans of the first call at the collector", () => {
        const mine = spans().filter((s) => s.traceId === traceId);
        return mine.length === 2 ? [mine.find((s) => s.spanId === spanId), mine.find((s) => s.spanId !== spanId)] : undefined;
      });
      expect(request).toMatchObject({ name: "POST /requests/{topic}", kind: 2 });
      expect(attr(request, "http.response.status_code")).toEqual({ intValue: 200 });
      expect(invocation).toMatchObject({ name: "ot-fn process", kind: 5, parentSpanId: spanId });
      expect(attr(invocation, "faas.name")).toEqual({ stringValue: "ot-fn" });
      expect(attr(invocation, "messaging.destination.name")).toEqual({ stringValue: "ot-in" });
      expect(attr(invocation, "faas.coldstart")).toEqual({ boolValue: false });
      const failure = await until("the failed call's span", () => spans().find((s) => s.traceId === traceOf(failed).traceId && s.name === "ot-fn process"));
      expect(failure.status).toMatchObject({ code: 2, message: expect.stringContaining("boom") });
      expect(attr(failure, "error.type")).toEqual({ stringValue: "RIFF_FUNCTION_ERROR" });
      expect(received[0]?.resourceSpans[0]?.resource.attributes).toContainEqual({ key: "service.name", value: { stringValue: "riff" } });
      const bad = await startRiff(["--otlp-endpoint", "collector:4318"]).then(() => undefined, (e: unknown) => e as Error);
      expect(bad?.message).toContain("--otlp-endpoint collector:4318: not an http(s) URL");
    } finally {
      collector.close();
    }
  });
});

interface OtlpAttr {
  key: string;
  value: Record<string, unknown>;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: OtlpAttr[];
}

function attr(span: OtlpSpan | undefined, key: string): unknown {
  return span?.attributes.find((a) => a.key === key)?.value;
}
