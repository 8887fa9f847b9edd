import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A way for a sandboxed function to tell a test what it did, and to be told when to go on: an
 * HTTP server on loopback (functions are on the host's network; the sandbox hides the test's
 * files from them). A function POSTs lines to `${url}/lines/NAME`, asks `${url}/flags/NAME`
 * (200 once set, 404 before), or sets a flag and learns whether it was set before with
 * POST `${url}/flags/NAME` (200: it was, 201: set now). The test waits on events, never on time.
 */
export interface SideChannel {
  url: string;
  /** The lines POSTed to `name` so far, in order of arrival. */
  lines(name: string): string[];
  /** Resolves with the lines of `name` once `done(lines)` holds. */
  waitFor(name: string, done: (lines: string[]) => boolean): Promise<string[]>;
  setFlag(name: string): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function startSideChannel(): Promise<SideChannel> {
  const lines = new Map<string, string[]>();
  const flags = new Set<string>();
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const [, kind, name = ""] = (req.url ?? "").split("/");
    let body = "";
    req.setEncoding("utf8").on("data", (d: string) => (body += d));
    req.on("end", () => {
      if (kind === "lines" && req.method === "POST") {
        lines.set(name, [...(lines.get(name) ?? []), ...body.split("\n").filter((l) => l !== "")]);
        for (const w of [...waiters]) w();
        res.writeHead(204).end();
      } else if (kind === "flags" && req.method === "GET") {
        res.writeHead(flags.has(name) ? 200 : 404).end();
      } else if (kind === "flags" && req.method === "POST") {
        const was = flags.has(name);
        flags.add(name);
        res.writeHead(was ? 200 : 201).end();
      } else {
        res.writeHead(400).end();
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    lines: (name) => [...(lines.get(name) ?? [])],
    waitFor(name, done) {
      return new Promise((resolve) => {
        const check = () => {
          const now = lines.get(name) ?? [];
          if (!done(now)) return;
          waiters.delete(check);
          resolve([...now]);
        };
        waiters.add(check);
        check();
      });
    },
    setFlag: (name) => void flags.add(name),
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      server.close();
    },
  };
}
