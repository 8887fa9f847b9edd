import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL(".", import.meta.url));
const API = [
  "DEFAULT_ALLOWED_LATENESS_MS",
  "DEFAULT_IDLE_FLUSH_MS",
  "DEFAULT_TIME",
  "NonRetriableError",
  "countBy",
  "createFakeClock",
  "groupBy",
  "message",
  "sessionWindow",
  "slidingCountWindow",
  "slidingWindow",
  "systemClock",
  "timestampOf",
  "tumblingCountWindow",
  "tumblingWindow",
];

describe("@riff/sdk as a function file loads it", () => {
  it("import gives the whole API", async () => {
    const sdk = await import("@riff/sdk");
    expect(Object.keys(sdk).sort()).toEqual(API);
  });

  it("require works too (Node >= 20.19 loads ES modules with require)", () => {
    const require = createRequire(import.meta.url);
    const sdk = require("@riff/sdk") as Record<string, unknown>;
    expect(typeof sdk.slidingWindow).toBe("function");
  });

  it("imports nothing, so it runs wherever a function runs", () => {
    for (const file of readdirSync(srcDir).filter((f) => f.endsWith(".ts") && !f.includes(".test"))) {
      const imports = [...readFileSync(srcDir + file, "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
      expect(imports.filter((i) => !i?.startsWith("./")), file).toEqual([]);
    }
  });
});
