import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A nats-server of the test's own, on a free loopback port, with JetStream in a temp folder. */
export interface TestNatsServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a private nats-server configured as docs/broker-nats.md asks of riff's servers:
 * `max_payload: 2MB`, so a 1 MiB message and its headers fit (the default is exactly 1 MiB).
 * The machine's shared server keeps its defaults, so the suite brings its own. Resolves once
 * the server says it listens; the port is the one it picked.
 */
export async function startTestNatsServer(): Promise<TestNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "riff-nats-"));
  const conf = join(dir, "nats.conf");
  writeFileSync(conf, `listen: "127.0.0.1:-1"\nmax_payload: 2MB\njetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }\n`);
  const child: ChildProcess = spawn("nats-server", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let log = "";
    child.once("error", (err) => reject(new Error(`cannot run nats-server (apt-get install nats-server): ${err.message}`)));
    child.once("exit", (code) => reject(new Error(`nats-server exited (${String(code)}) before it listened:\n${log}`)));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      log += chunk;
      const m = /Listening for client connections on (127\.0\.0\.1:\d+)/.exec(log);
      if (m) resolve(`nats://${m[1] ?? ""}`);
    });
  });
  child.stderr?.removeAllListeners("data");
  child.stderr?.resume();
  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
