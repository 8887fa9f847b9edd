import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { createHostCheck } from "./host-check.js";

const answers = (listen: string, host: string | undefined) => {
  try {
    createHostCheck(listen)(host);
    return true;
  } catch (err) {
    expect(err).toMatchObject({ code: "RIFF_HOST_NOT_ALLOWED", status: 403 });
    return false;
  }
};

describe("the admin API's Host check", () => {
  it("on loopback, answers loopback names and addresses only", () => {
    for (const ok of ["localhost", "localhost:8080", "LOCALHOST.", "app.localhost", "127.0.0.1:8080", "127.1.2.3", "[::1]:8080", undefined]) {
      expect(answers("127.0.0.1", ok), String(ok)).toBe(true);
    }
    for (const bad of ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "10.0.0.1", "[::2]", "[::1", "", hostname()]) {
      expect(answers("127.0.0.1", bad), bad).toBe(false);
    }
  });

  it("on one address, answers that address too", () => {
    expect(answers("10.0.0.7", "10.0.0.7:8080")).toBe(true);
    expect(answers("10.0.0.7", "10.0.0.8:8080")).toBe(false);
    expect(answers("riff.internal", "riff.internal:8080")).toBe(true);
  });

  it("on every interface, answers any IP address and the machine's name, never another name", () => {
    for (const listen of ["0.0.0.0", "::"]) {
      for (const ok of ["10.0.0.8:8080", "[fe80::1]:8080", `${hostname()}:8080`]) expect(answers(listen, ok), `${listen} ${ok}`).toBe(true);
      expect(answers(listen, "evil.example")).toBe(false);
    }
  });
});
