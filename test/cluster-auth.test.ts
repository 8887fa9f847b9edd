import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser } from "nkeys.js";
import { describe, expect, it } from "vitest";
import { spawnNatsServer } from "../packages/broker-nats/src/nats-server.test-util.js";
import { cli } from "./helpers/riff.js";

// A riff node joins NATS servers that want credentials: an nkey, over TLS with a CA of the
// test's own. Without them it says plainly that it could not connect.

/** A CA and a server certificate for 127.0.0.1, made with openssl in `dir`. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=riff test CA", "-keyout", "ca.key", "-out", "ca.pem"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"]);
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "server.pem"]);
  return { ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}

describe("riff on NATS servers that want credentials", () => {
  it("joins with an nkey over TLS, and without them says it cannot connect", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-nats-auth-"));
    const home = mkdtempSync(join(tmpdir(), "riff-auth-home-"));
    const work = mkdtempSync(join(tmpdir(), "riff-auth-work-"));
    const tls = certificates(dir);
    const user = createUser();
    const seedFile = join(dir, "riff.nk");
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()), { mode: 0o600 });
    const conf = join(dir, "nats.conf");
    writeFileSync(
      conf,
      [
        `listen: "127.0.0.1:-1"`,
        `max_payload: 2MB`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, "js"))} }`,
        `tls { cert_file: ${JSON.stringify(tls.cert)}, key_file: ${JSON.stringify(tls.key)} }`,
        `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`,
      ].join("\n"),
    );
    const { server, addresses } = await spawnNatsServer({ conf, logFile: join(dir, "nats.log") });
    const url = `tls://${addresses.client}`;
    try {
      const refused = await cli(home, ["system", "start", "--port", "0", "--cluster", url, "--nats-tls-ca", tls.ca]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/cannot connect to the NATS server at tls:\/\/127\.0\.0\.1:\d+/);
      expect(refused.stderr).not.toMatch(/bug in riff/);

      const started = await cli(home, ["system", "start", "--port", "0", "--cluster", url, "--nats-nkey", seedFile, "--nats-tls-ca", tls.ca, "--node-name", "n1"]);
      expect(started.code, started.stderr).toBe(0);
      writeFileSync(join(work, "square.js"), "module.exports = (x) => x ** 2\n");
      expect((await cli(home, ["create", "node", "--name", "square", "--input", "numbers", "--filepath", work])).code).toBe(0);
      expect((await cli(home, ["publish", "--input", "numbers", "--data", "6", "--reply"])).stdout).toBe("36\n");
      // The home remembers the cluster and its credentials: a plain start joins again.
      expect((await cli(home, ["system", "stop"])).code).toBe(0);
      expect((await cli(home, ["system", "start", "--port", "0"])).code).toBe(0);
      expect((await cli(home, ["publish", "--input", "numbers", "--data", "7", "--reply"])).stdout).toBe("49\n");
    } finally {
      await cli(home, ["system", "stop"]);
      await server.kill("SIGTERM");
      for (const d of [dir, home, work]) rmSync(d, { recursive: true, force: true });
    }
  });
});
