import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployNode } from "./helpers/functions.js";
import { httpRequest, rawRequest } from "./helpers/raw-http.js";
import { startRiff, type RiffFixture } from "./helpers/riff.js";

// A function that holds every message until one says "open": a reply that comes as late as
// the test wants, with no clock involved.
const GATE = `let open; const opened = new Promise((r) => (open = r));
module.exports = async (x) => { if (String(x) === "open") { open(); return "opened"; } await opened; return "late " + x; };
`;

// The connection cap and the timeouts of the one HTTP server, on a daemon with small limits.
// Raw sockets only: fetch would keep idle connections of its own that count against the cap.
describe("the HTTP server's limits", () => {
  let riff: RiffFixture;
  const MAX = 3;

  beforeAll(async () => {
    riff = await startRiff(["--max-connections", String(MAX), "--headers-timeout", "1s", "--request-timeout", "1s"]);
    const gate = await deployNode(riff, "gate", GATE, ["--input", "gate-in", "--ordering", "none", "--concurrency", "4", "--max-replicas", "1"]);
    expect(gate.code, gate.stderr).toBe(0);
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  const post = (path: string, body: string) => rawRequest(riff.url, httpRequest("POST", path, { host: "localhost" }, body));
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const { hostname, port } = new URL(riff.url);
      const socket = connect(Number(port), hostname, () => resolve(socket));
      socket.once("error", reject);
    });

  it("closes connections over the cap at once, and serves again once there is room", async () => {
    const held = await Promise.all(Array.from({ length: MAX }, open));
    // The server accepts in the order connections arrived: this one is over the cap.
    const over = await open();
    const got = await new Promise<string>((resolve) => {
      let text = "";
      over.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      over.on("error", () => {});
      over.on("close", () => resolve(text));
    });
    expect(got).toBe("");
    for (const s of held) s.destroy();
    // The server sees the closes in its own time: each attempt is one connection, not a wait.
    let status = 0;
    for (let attempt = 0; attempt < 100 && status !== 200; attempt++) status = (await rawRequest(riff.url, httpRequest("GET", "/healthz", { host: "localhost" }))).status;
    expect(status).toBe(200);
  });

  it("times out slow requests, not slow replies", async () => {
    // Sent whole, then waiting on the function: the request timeout does not apply to it.
    const late = post("/requests/gate-in", "x");
    // A request whose headers never end: its 408 means the server swept its connections after
    // the timeout, and the waiting request above, older still, was in the same sweep.
    const slow = await rawRequest(riff.url, "POST /requests/gate-in HTTP/1.1\r\nhost: localhost\r\nx-slow: 1\r\n");
    expect(slow.status).toBe(408);
    expect((JSON.parse(slow.text) as { error: { code: string } }).error.code).toBe("RIFF_REQUEST_TIMEOUT");
    expect((await post("/messages/gate-in", "open")).status).toBe(202);
    const reply = await late;
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text).toBe("late x");
  });
});
