import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, watch, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Between two looks in {@link pollUntil}: short, since elections take a few seconds at most. */
const POLL_INTERVAL_MS = 50;
/** How long a nats-server may take to say it is ready before the start is given up. */
export const DEFAULT_SERVER_START_TIMEOUT_MS = 10_000;

/** A nats-server of the test's own, on a free loopback port, with JetStream in a temp folder. */
export interface TestNatsServer {
  url: string;
  stop(): Promise<void>;
}

/** What one nats-server said it listens on, read from its log. */
export interface NatsServerAddresses {
  /** `host:port` of the client listener. */
  client: string;
  /** `host:port` of the http monitor, when the config has one. */
  monitor?: string;
}

/** One running nats-server process, started by {@link spawnNatsServer}. */
export interface NatsServerProcess {
  /** The nats-server's own pid, also when it runs through `ip netns exec` (which execs it). */
  readonly pid: number;
  /** False once the process has exited. */
  readonly running: boolean;
  /** Resolves once the process has exited; never rejects. */
  readonly exited: Promise<void>;
  /** Sends `signal` to the pid and resolves once the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Where and how {@link spawnNatsServer} runs a server. */
export interface SpawnNatsServerOptions {
  /** The config file, passed as `-c`. */
  conf: string;
  /** The file the server's stderr (its whole log) is appended to. */
  logFile: string;
  /** Runs the server inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** @default DEFAULT_SERVER_START_TIMEOUT_MS */
  timeoutMs?: number;
}

/** The last `lines` lines of a log file, for error messages, leaving out lines that match `skip`. */
export function logTail(logFile: string, lines = 25, skip?: RegExp): string {
  try {
    const all = readFileSync(logFile, "utf8").trimEnd().split("\n");
    return all.filter((line) => skip === undefined || !skip.test(line)).slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * Servers started and not yet exited: a test that times out never reaches its disposal, and
 * the setup file kills what is left here after each test file.
 */
export const liveNatsServers = new Set<NatsServerProcess>();

/**
 * Starts nats-server and resolves once its log says "Server is ready", with the addresses it
 * listens on (a port of -1 in the config is the one it picked). Stderr goes straight to
 * `logFile` through a file descriptor, so nothing in this process has to keep reading a pipe
 * for as long as the server lives, and a failure can show what the server said.
 */
export async function spawnNatsServer(
  options: SpawnNatsServerOptions,
): Promise<{ server: NatsServerProcess; addresses: NatsServerAddresses }> {
  const fd = openSync(options.logFile, "a");
  // A restart appends to the same log: read only what this run writes.
  const offset = statSync(options.logFile).size;
  const [command, args] = options.netns === undefined
    ? ["nats-server", ["-c", options.conf]]
    : ["ip", ["netns", "exec", options.netns, "nats-server", "-c", options.conf]];
  const child = spawn(command, args, { stdio: ["ignore", "ignore", fd] });
  closeSync(fd);
  let running = true;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("error", (err) => {
      spawnError = err;
      running = false;
      resolve();
    });
    child.once("exit", () => {
      running = false;
      resolve();
    });
  });
  const server: NatsServerProcess = {
    get pid() {
      return child.pid ?? -1;
    },
    get running() {
      return running;
    },
    exited,
    async kill(signal) {
      if (!running || child.pid === undefined) return;
      try {
        process.kill(child.pid, signal);
      } catch (err) {
        // Gone already, its exit event not yet delivered: waiting for that is all there is to do.
        if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
      }
      await exited;
    },
  };
  liveNatsServers.add(server);
  void exited.then(() => liveNatsServers.delete(server));
  try {
    const log = await waitForLogLine(options.logFile, offset, /Server is ready/, exited, options.timeoutMs ?? DEFAULT_SERVER_START_TIMEOUT_MS);
    const client = /Listening for client connections on (\S+:\d+)/.exec(log)?.[1];
    if (client === undefined) throw new Error(`nats-server is ready but named no client port:\n${log}`);
    const monitor = /Starting http monitor on (\S+:\d+)/.exec(log)?.[1];
    return { server, addresses: monitor === undefined ? { client } : { client, monitor } };
  } catch (err) {
    await server.kill("SIGKILL");
    if (spawnError !== undefined) {
      throw new Error(`cannot run ${command} (apt-get install ${command === "ip" ? "iproute2" : "nats-server"}): ${spawnError.message}`);
    }
    throw err;
  }
}

/**
 * Resolves with the log text written since `offset` once it matches `pattern`, re-reading the
 * file on each change of it (no polling); rejects, with the log's tail, if the process exits
 * first or `timeoutMs` passes.
 */
function waitForLogLine(logFile: string, offset: number, pattern: RegExp, exited: Promise<void>, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const read = () => readFileSync(logFile).subarray(offset).toString("utf8");
    const finish = (settle: () => void) => {
      watcher.close();
      clearTimeout(timer);
      settle();
    };
    const check = () => {
      const log = read();
      if (pattern.test(log)) finish(() => resolve(log));
    };
    const watcher = watch(logFile, check);
    const timer = setTimeout(
      () => finish(() => reject(new Error(`nats-server did not log ${String(pattern)} within ${timeoutMs} ms:\n${logTail(logFile)}`))),
      timeoutMs,
    );
    void exited.then(() => {
      // The last lines may land together with the exit: look once more before giving up.
      const log = read();
      if (pattern.test(log)) finish(() => resolve(log));
      else finish(() => reject(new Error(`nats-server exited before it was ready:\n${logTail(logFile)}`)));
    });
    check();
  });
}

/**
 * Calls `attempt` until it resolves, POLL_INTERVAL_MS apart, and resolves with its value. After
 * `timeoutMs` it throws "`what` ... within N ms" with the last failure, so a test that waits
 * for an election or a health check says what it was waiting for instead of just timing out.
 */
export async function pollUntil<T>(what: string, attempt: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`${what}: not so within ${timeoutMs} ms; last: ${(err as Error).message}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** `n` distinct ports free on `host` right now: all bound at once, then released. */
export async function freePorts(n: number, host: string): Promise<number[]> {
  const listeners = await Promise.all(
    Array.from({ length: n }, () => new Promise<Server>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, host, () => resolve(s));
    })),
  );
  const ports = listeners.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/**
 * Starts a private nats-server configured as docs/broker-nats.md asks of riff's servers:
 * `max_payload: 2MB`, so a 1 MiB message and its headers fit (the default is exactly 1 MiB).
 * The machine's shared server keeps its defaults, so the suite brings its own. Resolves once
 * the server says it is ready; the port is the one it picked.
 */
export async function startTestNatsServer(): Promise<TestNatsServer> {
  const dir = mkdtempSync(join(tmpdir(), "riff-nats-"));
  const conf = join(dir, "nats.conf");
  writeFileSync(conf, `listen: "127.0.0.1:-1"\nmax_payload: 2MB\njetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }\n`);
  try {
    const { server, addresses } = await spawnNatsServer({ conf, logFile: join(dir, "nats.log") });
    return {
      url: `nats://${addresses.client}`,
      async stop() {
        await server.kill("SIGTERM");
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
