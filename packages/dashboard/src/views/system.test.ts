import { describe, expect, it } from "vitest";
import { systemRegion } from "./system.js";

describe("the System page", () => {
  it("shows durations as durations, not raw milliseconds, and nested values as escaped JSON", () => {
    const text = String(systemRegion({ version: "0.1.0", uptimeMs: 131697.610587, cluster: { name: "<b>" } }, []));
    expect(text).toContain("<th>uptime</th><td>2m</td>");
    expect(text).not.toContain("131697");
    expect(text).toContain("&lt;b&gt;");
  });
});
