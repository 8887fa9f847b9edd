import { describe, expect, it } from "vitest";
import { RiffError } from "@riff/core";
import { resolveMetricsOptions } from "./metrics-options.js";

describe("resolveMetricsOptions", () => {
  it("is open on loopback and asks for the token elsewhere, unless told", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"]) expect(resolveMetricsOptions({}, host, 8080)).toEqual({ port: undefined, auth: "none" });
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "riff.example"]) expect(resolveMetricsOptions({}, host, 8080)).toEqual({ port: undefined, auth: "token" });
    expect(resolveMetricsOptions({ metricsAuth: "none" }, "0.0.0.0", 8080)?.auth).toBe("none");
    expect(resolveMetricsOptions({ metricsAuth: "token" }, "127.0.0.1", 8080)?.auth).toBe("token");
  });

  it("off is undefined; the daemon's own port named again is no second listener", () => {
    expect(resolveMetricsOptions({ metrics: "off", metricsAuth: "bogus" }, "127.0.0.1", 8080)).toBeUndefined();
    expect(resolveMetricsOptions({ metricsPort: 8080 }, "127.0.0.1", 8080)?.port).toBeUndefined();
    expect(resolveMetricsOptions({ metricsPort: 9464 }, "127.0.0.1", 8080)?.port).toBe(9464);
    expect(resolveMetricsOptions({ metricsPort: 0 }, "127.0.0.1", 0)?.port).toBe(0);
  });

  it("refuses bad values with the flag named", () => {
    const refused = (f: () => unknown, message: RegExp) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(RiffError);
        expect((err as RiffError).code).toBe("RIFF_INVALID_ARGUMENT");
        expect((err as RiffError).message).toMatch(message);
        return;
      }
      throw new Error("not refused");
    };
    refused(() => resolveMetricsOptions({ metrics: "yes" }, "127.0.0.1", 8080), /^--metrics yes: must be on or off/);
    refused(() => resolveMetricsOptions({ metricsAuth: "basic" }, "127.0.0.1", 8080), /^--metrics-auth basic: must be none or token/);
    refused(() => resolveMetricsOptions({ metricsPort: 65536 }, "127.0.0.1", 8080), /^--metrics-port 65536: must be a whole number/);
    refused(() => resolveMetricsOptions({ metricsPort: Number.NaN }, "127.0.0.1", 8080), /^--metrics-port NaN/);
  });
});
