import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The built CLI, run the way a user runs it. */
export const RIFF_BIN = resolve(import.meta.dirname, "../../packages/cli/bin/riff.js");

/** What one CLI run printed. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `riff ...args` against `home`, in `cwd`, with `env` added to this process's environment. */
export function cli(home: string, args: string[], cwd?: string, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [RIFF_BIN, ...args],
      { cwd: cwd ?? home, env: { ...process.env, ...env, RIFF_HOME: home }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** A daemon on a free port with a temporary home, stopped and removed by `dispose`. */
export interface RiffFixture {
  home: string;
  /** A scratch folder for function sources, removed with the fixture. */
  work: string;
  url: string;
  token: string;
  pid(): number;
  cli(args: string[], cwd?: string): Promise<CliResult>;
  /** Starts the daemon again on the same home (after a stop or a kill). */
  restart(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Fixtures not yet disposed. A test that times out never reaches its `await using` disposal,
 * and the daemon, detached by `riff system start`, would outlive the run: the setup file
 * disposes whatever is left here after each test file.
 */
export const liveFixtures = new Set<RiffFixture>();

/** Starts riff with `riff system start --port 0` in a fresh home; `env` is added to the daemon's environment. */
export async function startRiff(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<RiffFixture> {
  const home = mkdtempSync(join(tmpdir(), "riff-test-"));
  const work = mkdtempSync(join(tmpdir(), "riff-work-"));
  let url = "";
  const start = async () => {
    const r = await cli(home, ["system", "start", "--port", "0", ...extraArgs], undefined, env);
    if (r.code !== 0) throw new Error(`riff system start failed (${r.code}): ${r.stderr}`);
    url = r.stdout.trim();
  };
  try {
    await start();
  } catch (err) {
    // No fixture to dispose of: take its folders away here.
    rmSync(home, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
  const info = () => JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number };
  let lastPid = info().pid;
  const fixture: RiffFixture = {
    home,
    work,
    get url() {
      return url;
    },
    token: readFileSync(join(home, "token"), "utf8").trim(),
    pid: () => lastPid,
    cli: (args, cwd) => cli(home, args, cwd),
    restart: async () => {
      await start();
      lastPid = info().pid;
    },
    kill: () => process.kill(lastPid, "SIGKILL"),
    async [Symbol.asyncDispose]() {
      liveFixtures.delete(fixture);
      await cli(home, ["system", "stop"]);
      try {
        process.kill(lastPid, "SIGKILL");
      } catch {
        // already gone
      }
      rmSync(home, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    },
  };
  liveFixtures.add(fixture);
  return fixture;
}

/** Reads `riff logs -n NAME -f` (history, then new lines) until a line matches: waits on the log, not on time. */
export function waitForLog(home: string, name: string, pattern: RegExp): { found: Promise<string>; child: ChildProcess } {
  const child = spawn(process.execPath, [RIFF_BIN, "logs", "-n", name, "-f", "--tail", "2000"], {
    env: { ...process.env, RIFF_HOME: home },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const found = new Promise<string>((resolveFound, reject) => {
    let text = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
      const line = text.split("\n").find((l) => pattern.test(l));
      if (line !== undefined) {
        child.kill();
        resolveFound(line);
      }
    });
    child.once("exit", () => reject(new Error(`logs of ${name} ended before a line matched ${String(pattern)}`)));
  });
  return { found, child };
}

/** Reads `riff logs -n NAME -f` until `count` lines match `pattern`. */
export function waitForLogCount(home: string, name: string, pattern: RegExp, count: number): Promise<string[]> {
  return new Promise((resolveFound, reject) => {
    const child = spawn(process.execPath, [RIFF_BIN, "logs", "-n", name, "-f", "--tail", "2000"], {
      env: { ...process.env, RIFF_HOME: home },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    let done = false;
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
      const lines = text.split("\n").filter((l) => pattern.test(l));
      if (lines.length >= count && !done) {
        done = true;
        child.kill();
        resolveFound(lines);
      }
    });
    child.once("exit", () => {
      if (!done) reject(new Error(`logs of ${name} ended before ${count} lines matched ${String(pattern)}`));
    });
  });
}

/** Reads `riff topics tail -f -o json` until `n` messages arrived. */
export function tailN(home: string, topic: string, n: number): Promise<TailedMessage[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RIFF_BIN, "topics", "tail", topic, "--from-beginning", "-f", "-o", "json"], {
      env: { ...process.env, RIFF_HOME: home },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const got: TailedMessage[] = [];
    let rest = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const l of lines) if (l) got.push(JSON.parse(l) as TailedMessage);
      if (got.length >= n) {
        child.kill();
        resolve(got);
      }
    });
    child.once("exit", () => reject(new Error(`tail of ${topic} ended with ${got.length} of ${n} messages`)));
  });
}


/** One message as `riff topics tail -o json` prints it. */
export interface TailedMessage {
  partition: number;
  offset: number;
  timestamp: number;
  payload: string;
  headers: Record<string, string[]>;
}
