import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { matching, parseSamples, scrape, sumOf, waitForScrape } from "./helpers/metrics-text.js";
import { startPrometheus, type PrometheusFixture } from "./helpers/prometheus.js";
import { cli, startRiff, type RiffFixture } from "./helpers/riff.js";
import { startSideChannel, type SideChannel } from "./helpers/side-channel.js";

/** Every metric docs/metrics.md lists, with its type. */
const DOCUMENTED: [string, string][] = [
  ["riff_gateway_requests_total", "counter"],
  ["riff_gateway_request_duration_seconds", "histogram"],
  ["riff_function_invocations_total", "counter"],
  ["riff_function_invoke_duration_seconds", "histogram"],
  ["riff_function_coldstarts_total", "counter"],
  ["riff_function_init_duration_seconds", "histogram"],
  ["riff_function_queue_wait_seconds", "histogram"],
  ["riff_function_retries_total", "counter"],
  ["riff_function_deadlettered_total", "counter"],
  ["riff_autoscaler_decisions_total", "counter"],
  ["riff_function_replicas", "gauge"],
  ["riff_function_inflight", "gauge"],
  ["riff_function_max_replicas", "gauge"],
  ["riff_topic_partition_end_offset", "gauge"],
  ["riff_topic_partition_start_offset", "gauge"],
  ["riff_consumergroup_committed_offset", "gauge"],
  ["riff_consumergroup_lag", "gauge"],
  ["riff_consumergroup_lag_seconds", "gauge"],
  ["riff_build_info", "gauge"],
  ["riff_broker_write_batch_messages", "histogram"],
  ["riff_broker_write_seconds", "histogram"],
  ["process_cpu_seconds_total", "counter"],
  ["nodejs_eventloop_lag_seconds", "gauge"],
];

/** The only labels riff's metrics carry: all bounded by what users create (no replica, message or key). */
const BOUNDED_LABELS = new Set(["topic", "path", "code", "function", "outcome", "trigger", "invoker", "reason", "direction", "state", "partition", "group", "version", "node", "broker", "le"]);

describe("metrics, scraped by a real Prometheus", () => {
  let riff: RiffFixture;
  let prometheus: PrometheusFixture;
  let channel: SideChannel;
  let metricsUrl: string;

  beforeAll(async () => {
    riff = await startRiff();
    channel = await startSideChannel();
    metricsUrl = `${riff.url}/metrics`;
    const gate = `module.exports = async (x) => {
  while ((await fetch("${channel.url}/flags/go")).status !== 200) await new Promise((r) => setTimeout(r, 20));
  return x;
};
`;
    const deploys = await Promise.all([
      deployNode(riff, "square", "module.exports = (x) => x ** 2\n", ["--input", "numbers"]),
      deployNode(riff, "gate", gate, ["--input", "gated"]),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
    prometheus = await startPrometheus(new URL(riff.url).host);
  });
  afterAll(async () => {
    await prometheus?.[Symbol.asyncDispose]();
    await channel?.[Symbol.asyncDispose]();
    await riff?.[Symbol.asyncDispose]();
  });

  it("Prometheus scrapes /metrics: up == 1", async () => {
    const up = await prometheus.waitFor('up{job="riff"} == 1', (s) => s.length === 1);
    expect(up[0]?.value).toBe(1);
  });

  it("/metrics is the text format, with HELP and TYPE for every documented metric and only bounded labels", async () => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    // A query string is allowed (Prometheus's `params`); another path that starts alike is not /metrics.
    expect((await fetch(`${metricsUrl}?name[]=riff_build_info`)).status).toBe(200);
    expect((await fetch(`${metricsUrl}x`)).status).toBe(404);
    for (const [name, type] of DOCUMENTED) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
      expect(text).toContain(`\n# TYPE ${name} ${type}\n`);
    }
    const samples = parseSamples(text).filter((s) => s.name.startsWith("riff_"));
    expect(samples.length).toBeGreaterThan(0);
    for (const s of samples) for (const label of Object.keys(s.labels)) expect(BOUNDED_LABELS, `${s.name} has label ${label}`).toContain(label);
    expect(matching(text, "riff_build_info", { version: "0.1.0", node: process.version, broker: "embedded" })).toHaveLength(1);
  });

  it("rate(riff_function_invocations_total[30s]) > 0 in Prometheus after publishing; the gateway counted each request", async () => {
    // Prometheus must have seen the counter at 0 first, or rate() has one sample only.
    await prometheus.waitFor('riff_function_invocations_total{function="square",outcome="success"}', (s) => s.length === 1);
    for (let i = 0; i < 20; i++) expect((await fetch(`${riff.url}/messages/numbers`, { method: "POST", body: String(i) })).status).toBe(202);
    const rate = await prometheus.waitFor('rate(riff_function_invocations_total{function="square",outcome="success"}[30s]) > 0', (s) => s.length === 1);
    expect(rate[0]?.value).toBeGreaterThan(0);
    const text = await scrape(metricsUrl);
    expect(sumOf(text, "riff_gateway_requests_total", { topic: "numbers", path: "messages", code: "202" })).toBe(20);
    expect(sumOf(text, "riff_gateway_request_duration_seconds_count", { topic: "numbers", path: "messages" })).toBe(20);
  });

  it("riff_consumergroup_lag and _lag_seconds rise while a function holds its messages, and drop back to 0 after processing", async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${riff.url}/messages/gated`, { method: "POST", body: String(i) })).status).toBe(202);
    const lag = await prometheus.waitFor('riff_consumergroup_lag{group="gate",topic="gated"} > 0', (s) => s.length === 1);
    expect(lag[0]?.metric).toMatchObject({ group: "gate", topic: "gated", partition: "0" });
    await prometheus.waitFor('riff_consumergroup_lag_seconds{group="gate",topic="gated"} > 0', (s) => s.length === 1);
    channel.setFlag("go");
    await prometheus.waitFor('riff_consumergroup_lag{group="gate",topic="gated"} == 0', (s) => s.length === 1);
    const text = await waitForScrape(metricsUrl, (t) => sumOf(t, "riff_consumergroup_lag", { group: "gate" }) === 0 && sumOf(t, "riff_consumergroup_lag_seconds", { group: "gate" }) === 0);
    expect(sumOf(text, "riff_consumergroup_committed_offset", { group: "gate", topic: "gated" })).toBe(5);
    expect(sumOf(text, "riff_topic_partition_end_offset", { topic: "gated" })).toBe(5);
  });

  it("the cold-start counter goes up by exactly 1 on a cold call", async () => {
    // `riff create` starts a replica; idle, it is stopped after a second: scaled to zero.
    expect((await deployNode(riff, "cold", "module.exports = (x) => x ** 2\n", ["--input", "cold-in", "--idle-timeout", "1s"])).code).toBe(0);
    await waitForScrape(metricsUrl, (t) => sumOf(t, "riff_autoscaler_decisions_total", { function: "cold", direction: "down" }) >= 1);
    // No replica runs now: the call below has to start one.
    const before = await waitForScrape(metricsUrl, (t) => matching(t, "riff_function_replicas", { function: "cold" }).length === 4 && sumOf(t, "riff_function_replicas", { function: "cold" }) === 0);
    const res = await fetch(`${riff.url}/requests/cold-in`, { method: "POST", body: "4" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("16");
    const after = await scrape(metricsUrl);
    expect(sumOf(after, "riff_function_coldstarts_total", { function: "cold" })).toBe(sumOf(before, "riff_function_coldstarts_total", { function: "cold" }) + 1);
    const inits = (t: string) => sumOf(t, "riff_function_init_duration_seconds_count", { function: "cold", invoker: "node" });
    expect(inits(after)).toBe(inits(before) + 1);
    expect(sumOf(after, "riff_function_invocations_total", { function: "cold", outcome: "success" })).toBe(1);
  });

  it("scaling decisions appear in riff_autoscaler_decisions_total, with their reason", async () => {
    expect((await deployNode(riff, "scaled", "module.exports = (x) => x\n", ["--input", "scaled-in", "--idle-timeout", "1s"])).code).toBe(0);
    // The replica `riff create` started is stopped once idle for a second: a decision down, for idleness.
    const text = await waitForScrape(metricsUrl, (t) => sumOf(t, "riff_autoscaler_decisions_total", { function: "scaled", direction: "down" }) >= 1);
    // Each reason's series starts at 0 with the function (increase() sees the first one); the
    // only one that moved down is idleness, and the replica `riff create` started counts up.
    const moved = (direction: string) => matching(text, "riff_autoscaler_decisions_total", { function: "scaled", direction }).filter((d) => d.value > 0);
    expect(moved("down").map((d) => [d.labels["reason"], d.value])).toEqual([["idle", 1]]);
    expect(moved("up").map((d) => [d.labels["reason"], d.value])).toEqual([["started", 1]]);
    expect(sumOf(text, "riff_autoscaler_decisions_total", { function: "scaled", direction: "up", reason: "backlog" })).toBe(0);
    await prometheus.waitFor('riff_autoscaler_decisions_total{function="scaled",direction="down",reason="idle"} >= 1', (s) => s.length === 1);
  });

  it("every PromQL example of docs/metrics.md is a valid query that Prometheus answers", async () => {
    const doc = readFileSync(join(import.meta.dirname, "../docs/metrics.md"), "utf8");
    const examples = [...doc.matchAll(/```promql\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? "").split("\n")).filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(examples.length).toBeGreaterThan(3);
    for (const expr of examples) await expect(prometheus.query(expr), expr).resolves.toBeInstanceOf(Array);
    // Valid is not enough: a ratio of series whose labels differ matches nothing, ever.
    const ratio = examples.find((e) => e.includes("riff_function_max_replicas"));
    expect(ratio).toBeDefined();
    await prometheus.waitFor(ratio ?? "", (series) => series.length > 0);
  });

  it("a deleted function's series, and its deleted topics' series, disappear", async () => {
    expect((await deployNode(riff, "doomed", "module.exports = (x) => x\n", ["--input", "doomed-in"])).code).toBe(0);
    expect((await fetch(`${riff.url}/requests/doomed-in`, { method: "POST", body: "1" })).status).toBe(200);
    const mentions = (t: string) => parseSamples(t).filter((s) => s.labels["function"] === "doomed" || s.labels["group"] === "doomed" || s.labels["topic"] === "doomed-in");
    await waitForScrape(metricsUrl, (t) => mentions(t).some((s) => s.name === "riff_gateway_requests_total") && mentions(t).some((s) => s.name === "riff_consumergroup_lag"));
    expect((await riff.cli(["delete", "--all", "doomed"])).code).toBe(0);
    expect(mentions(await scrape(metricsUrl))).toEqual([]);
  });
});

describe("metrics flags", () => {
  const token = (riff: RiffFixture) => ({ authorization: `Bearer ${riff.token}` });

  it("--metrics-auth token: 401 without the admin token, 200 with it", async () => {
    await using riff = await startRiff(["--metrics-auth", "token"]);
    const without = await fetch(`${riff.url}/metrics`);
    expect(without.status).toBe(401);
    expect(((await without.json()) as { error: { code: string } }).error.code).toBe("RIFF_UNAUTHORIZED");
    expect((await fetch(`${riff.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect(await scrape(`${riff.url}/metrics`, token(riff))).toContain("# TYPE riff_build_info gauge");
    // The scrape config docs/metrics.md gives for it: the home's token file as credentials.
    await using prometheus = await startPrometheus(new URL(riff.url).host, { credentialsFile: join(riff.home, "token") });
    await prometheus.waitFor('up{job="riff"} == 1', (s) => s.length === 1);
  });

  it("--metrics-port serves /metrics on its own port, and the daemon's port no longer does", async () => {
    await using riff = await startRiff(["--metrics-port", "0"]);
    const { metricsUrl, port } = JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8")) as { metricsUrl: string; port: number };
    expect(new URL(metricsUrl).port).not.toBe(String(port));
    expect(await scrape(metricsUrl)).toContain("# TYPE riff_build_info gauge");
    const here = await fetch(`${riff.url}/metrics`);
    expect(here.status).toBe(404);
    // The daemon's port says where the metrics went, and so does riff system status.
    expect(((await here.json()) as { error: { hint: string } }).error.hint).toContain(metricsUrl);
    expect((await riff.cli(["system", "status"])).stdout).toContain(`metrics: ${metricsUrl}`);
    expect((await fetch(new URL("/healthz", metricsUrl))).status).toBe(404);
  });

  it("--no-metrics: /metrics answers 404", async () => {
    await using riff = await startRiff(["--no-metrics"]);
    expect((await fetch(`${riff.url}/metrics`)).status).toBe(404);
    expect(JSON.parse(readFileSync(join(riff.home, "daemon.json"), "utf8"))).not.toHaveProperty("metricsUrl");
  });

  it("bad values are refused with the flag named and how to fix it", async () => {
    const home = mkdtempSync(join(tmpdir(), "riff-test-"));
    try {
      const cases: [string[], RegExp][] = [
        [["--metrics-auth", "maybe"], /--metrics-auth maybe: must be none or token/],
        [["--metrics", "sometimes"], /--metrics sometimes: must be on or off/],
        [["--metrics-port", "70000"], /--metrics-port 70000: must be a whole number from 0 to 65535/],
      ];
      for (const [flags, message] of cases) {
        const r = await cli(home, ["system", "start", "--port", "0", ...flags]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(message);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
