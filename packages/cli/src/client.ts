import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { fromErrorBody, RiffError, type ErrorBody } from "@riff/core";
import { readToken } from "@riff/daemon/token";

/** What the daemon writes to `<home>/daemon.json`. */
export interface DaemonInfo {
  pid: number;
  port: number;
  url: string;
  home: string;
  startedAt: string;
  version: string;
  /** Absent in the files of daemons older than this field. */
  sandbox?: string;
  /** Where the admin token is when the daemon was started with `--token-file`. */
  tokenFile?: string;
  /** What the start told its user. */
  notes?: string[];
}

/** The riff home: --home, else RIFF_HOME, else ~/.riff. */
export function resolveHome(flag: string | undefined): string {
  const env = process.env["RIFF_HOME"];
  return resolve(flag ?? (env !== undefined && env !== "" ? env : join(homedir(), ".riff")));
}

function notRunning(home: string): RiffError {
  // The command to type, for this home: without --home it would start another riff, in the default one.
  const start = home === resolveHome(undefined) ? "riff system start" : `riff system start --home ${shellWord(home)}`;
  const log = join(home, "daemon.log");
  return new RiffError("RIFF_DAEMON_NOT_RUNNING", `riff is not running (home ${home})`, {
    hint: `start it with \`${start}\`${existsSync(log) ? `; if it stopped by itself, ${log} says why` : ""}`,
  });
}

/** `text` as one shell word: as it is when it holds nothing a shell reads, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w./:@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/**
 * The connection to the daemon broke once made (it stopped, restarted or was killed during the
 * answer, say under `riff topics tail -f`): Node's fetch says only "terminated" or "fetch
 * failed", which is no bug of riff's. Undefined for any other error.
 */
export function lostDaemon(home: string, err: unknown): RiffError | undefined {
  if (!(err instanceof TypeError) || (err.message !== "terminated" && err.message !== "fetch failed")) return undefined;
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return new RiffError("RIFF_DAEMON_UNREACHABLE", `the connection to riff (home ${home}) broke before its answer ended${typeof code === "string" ? ` (${code})` : ""}: the daemon stopped, restarted or was killed`, {
    hint: "`riff system status` says whether it runs; its log is daemon.log in the home",
  });
}

/** Reads `daemon.json`, or undefined when no daemon was started in this home. */
export function readDaemonInfo(home: string): DaemonInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as DaemonInfo;
  } catch {
    return undefined;
  }
}

/** Talks to the daemon of one home over its HTTP API, with the token from the home. */
export class DaemonClient {
  readonly info: DaemonInfo;
  private readonly token: string;

  /** A client of riff's API at `url` (riff's gateway in Kubernetes) with `token`, instead of a home's daemon. */
  static remote(url: string, token: string): DaemonClient {
    const base = url.replace(/\/+$/, "");
    return new DaemonClient(base, { info: { pid: 0, port: 0, url: base, home: base, startedAt: "", version: "" }, token });
  }

  constructor(
    readonly home: string,
    remote?: { info: DaemonInfo; token: string },
  ) {
    if (remote !== undefined) {
      this.info = remote.info;
      this.token = remote.token;
      return;
    }
    const info = readDaemonInfo(home);
    if (info === undefined) throw notRunning(home);
    this.info = info;
    let token: string | undefined;
    try {
      token = info.tokenFile === undefined ? readToken(join(home, "token")) : readToken(info.tokenFile, { ownGroup: true });
    } catch (err) {
      // A token others may read is refused with its own error; any other failure is access.
      if (err instanceof RiffError) throw err;
    }
    if (token === undefined) {
      throw new RiffError("RIFF_UNAUTHORIZED", `cannot read the admin token in ${home}`, {
        hint: `run riff as the user that started the daemon (the token is in ${info.tokenFile ?? join(home, "token")})`,
      });
    }
    this.token = token;
  }

  /** Calls `/api/v1/<path>` and returns the parsed JSON, or throws the daemon's error. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(`/api/v1/${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw errorFrom(res.status, text);
    return JSON.parse(text) as T;
  }

  /**
   * Calls an admin endpoint that streams progress (`?progress=true`): progress lines go to
   * stderr as they come, and the final `{results}` is returned.
   */
  async callWithProgress<T>(method: string, path: string, body?: unknown): Promise<T> {
    const sep = path.includes("?") ? "&" : "?";
    const res = await this.fetch(`/api/v1/${path}${sep}progress=true`, {
      method,
      auth: true,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok || res.body === null) throw errorFrom(res.status, await res.text());
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of res.body) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines.filter(Boolean)) {
        const event = JSON.parse(line) as { progress?: string; results?: T; error?: ErrorBody };
        if (event.progress !== undefined) process.stderr.write(`  ${event.progress}\n`);
        if (event.error !== undefined) throw fromErrorBody(event.error);
        if (event.results !== undefined) return event.results;
      }
    }
    throw new RiffError("RIFF_INTERNAL", "the daemon ended the answer without a result");
  }

  /** A raw request to the daemon (the gateway, or a streaming admin call). */
  async fetch(path: string, init: RequestInit & { auth?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.auth === true) headers.set("authorization", `Bearer ${this.token}`);
    try {
      return await fetch(`${this.info.url}${path}`, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if (cause?.code === "ECONNREFUSED") throw notRunning(this.home);
      throw err;
    }
  }
}

/** Turns a non-2xx answer into the daemon's RiffError, or a plain one with the status. */
export function errorFrom(status: number, text: string): RiffError {
  try {
    const body = JSON.parse(text) as { error?: ErrorBody };
    if (body.error !== undefined) return fromErrorBody(body.error);
  } catch {
    // not JSON
  }
  return new RiffError(status >= 500 ? "RIFF_INTERNAL" : "RIFF_INVALID_ARGUMENT", `HTTP ${status}: ${text}`);
}
