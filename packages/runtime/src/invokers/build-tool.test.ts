import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { riffCacheDir } from "./build-tool.js";

// riff's caches (compiled shims, venvs, Go tools) sit next to its install, unless the install is
// read-only (riff's Kubernetes images): then RIFF_CACHE_DIR says where.
describe("riffCacheDir", () => {
  const saved = process.env["RIFF_CACHE_DIR"];
  afterEach(() => {
    if (saved === undefined) delete process.env["RIFF_CACHE_DIR"];
    else process.env["RIFF_CACHE_DIR"] = saved;
  });

  it("is under RIFF_CACHE_DIR when it is set", () => {
    process.env["RIFF_CACHE_DIR"] = "/var/lib/riff/cache";
    expect(riffCacheDir(".java-shim")).toBe("/var/lib/riff/cache/.java-shim");
  });

  it("is next to the runtime's dist/ otherwise", () => {
    delete process.env["RIFF_CACHE_DIR"];
    expect(riffCacheDir(".java-shim")).toBe(`${join(import.meta.dirname, "..", "..", "dist", ".java-shim")}/`);
  });
});
