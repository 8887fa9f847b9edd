// The baseline: a plain Node HTTP server with no riff in the way. `/messages/...` reads the body
// and answers 202 with a small JSON body, as riff's /messages does (but stores nothing); any
// other path computes x ** 2 itself, as the /requests function does.
import { createServer } from "node:http";

const ACCEPTED = JSON.stringify({ partition: 0, offset: 0 });

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.url?.startsWith("/messages/")) {
      res.writeHead(202, { "content-type": "application/json", "content-length": Buffer.byteLength(ACCEPTED) });
      res.end(ACCEPTED);
      return;
    }
    const body = String(Buffer.concat(chunks).toString() ** 2);
    res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
