import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { checkSameOrigin } from "./requests.js";

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("checkSameOrigin", () => {
  it("takes a post from the dashboard's own origin", () => {
    expect(() => checkSameOrigin(req({ host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" }))).not.toThrow();
    expect(() => checkSameOrigin(req({ host: "127.0.0.1:8080", "sec-fetch-site": "same-origin" }))).not.toThrow();
  });
  it("refuses another origin, a null one, and none at all, naming the header", () => {
    for (const h of [{ origin: "http://evil.example" }, { origin: "null" }, {}]) {
      expect(() => checkSameOrigin(req({ host: "127.0.0.1:8080", ...h }))).toThrow(expect.objectContaining({ code: "RIFF_CROSS_ORIGIN", details: { header: "Origin" } }));
    }
  });
});
