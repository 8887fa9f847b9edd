import { connect } from "node:net";

/** What came back on a raw connection: the status of its first line and the body after the headers. */
export interface RawAnswer {
  status: number;
  headers: string;
  text: string;
}

/**
 * Writes `bytes` as they are on a fresh TCP connection to `url`'s port and reads until the
 * server closes it: for requests no HTTP client would send (bad request lines, huge or broken
 * headers, half-sent headers). `then` may write more once connected.
 */
export function rawRequest(url: string, bytes: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    // The server may close before it read all we wrote (it answered already): not a failure.
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    socket.on("close", () => {
      const all = Buffer.concat(chunks).toString("utf8");
      const end = all.indexOf("\r\n\r\n");
      const head = end === -1 ? all : all.slice(0, end);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, headers: head, text: end === -1 ? "" : all.slice(end + 4) });
    });
    socket.write(bytes);
  });
}

/** A complete HTTP/1.1 request with `Connection: close`, so that the answer ends with the connection. */
export function httpRequest(method: string, path: string, headers: Record<string, string>, body = ""): string {
  const lines = Object.entries({ connection: "close", "content-length": String(Buffer.byteLength(body)), ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}
