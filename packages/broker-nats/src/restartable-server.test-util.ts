import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type NatsServerProcess, spawnNatsServer } from "./nats-server.test-util.js";

/** A private nats-server that a test can stop and start again on the same port and store. */
export interface RestartableNatsServer {
  /** `nats://127.0.0.1:<port>`, the same across restarts. */
  readonly url: string;
  /** Stops the server (SIGTERM unless told), keeping its store; resolves once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, resolving once it is ready. */
  restart(): Promise<void>;
  /** Stops it if running and removes its folder. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a nats-server configured as riff's servers should be (`max_payload: 2MB`, JetStream
 * in a temp folder). The first start lets it pick a free port; the config is then pinned to
 * that port, so a restart comes back where the broker's client keeps knocking.
 */
export async function startRestartableNatsServer(): Promise<RestartableNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "riff-nats-restart-"));
  const conf = join(dir, "nats.conf");
  const logFile = join(dir, "nats.log");
  const config = (listen: string) =>
    `listen: "${listen}"\nmax_payload: 2MB\njetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }\n`;
  writeFileSync(conf, config("127.0.0.1:-1"));
  let proc: NatsServerProcess;
  try {
    const started = await spawnNatsServer({ conf, logFile });
    proc = started.server;
    writeFileSync(conf, config(started.addresses.client));
    return {
      url: `nats://${started.addresses.client}`,
      kill: (signal = "SIGTERM") => proc.kill(signal),
      async restart() {
        if (proc.running) await proc.kill("SIGTERM");
        proc = (await spawnNatsServer({ conf, logFile })).server;
      },
      async [Symbol.asyncDispose]() {
        if (proc.running) await proc.kill("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
