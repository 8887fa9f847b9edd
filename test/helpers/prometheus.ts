import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Debian's `prometheus` package puts it here; `.ci/run` installs it. */
export const PROMETHEUS_BIN = "/usr/bin/prometheus";

/** One series of an instant query's answer. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** A real Prometheus in a temporary folder, scraping riff every second. */
export interface PrometheusFixture {
  url: string;
  /** Runs an instant query (`/api/v1/query`). */
  query(expr: string): Promise<Sample[]>;
  /** Asks `expr` again (every 250 ms, up to `timeoutMs`) until `done` holds for its answer. */
  waitFor(expr: string, done: (samples: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A port free now on 127.0.0.1 (Prometheus cannot say which port `:0` gave it). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Starts Prometheus scraping `target` (`host:port`) at `metricsPath`, every second; with
 * `credentialsFile`, it sends that file's content as a bearer token.
 */
export async function startPrometheus(target: string, o: { metricsPath?: string; credentialsFile?: string } = {}): Promise<PrometheusFixture> {
  // A missing tool fails the test, loudly: skipping would pass a suite that checked nothing.
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`the metrics test needs Prometheus at ${PROMETHEUS_BIN}: apt-get install prometheus (.ci/run installs it)`);
  const dir = mkdtempSync(join(tmpdir(), "riff-prometheus-"));
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: riff
    metrics_path: ${o.metricsPath ?? "/metrics"}
${o.credentialsFile === undefined ? "" : `    authorization:\n      credentials_file: ${o.credentialsFile}\n`}    static_configs:
      - targets: ["${target}"]
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (log = (log + d).slice(-4000)));
  const exited = once(child, "exit");
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, "SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const poll = async <T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) while waiting for ${what}:\n${log}`);
      const got = await attempt().catch(() => undefined);
      if (got !== undefined) return got;
      if (Date.now() > deadline) throw new Error(`prometheus: gave up waiting for ${what} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const query = async (expr: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== "success" || body.data === undefined) throw new Error(`query ${expr}: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  try {
    await poll("readiness", async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined), 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    query,
    waitFor: (expr, done, timeoutMs = 45_000) =>
      poll(expr, async () => {
        const samples = await query(expr);
        return done(samples) ? samples : undefined;
      }, timeoutMs),
    [Symbol.asyncDispose]: stop,
  };
}
