import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { sendError } from "@riff/gateway";
import { artifactDigest, LocalArtifactStore } from "@riff/controller";
import { create } from "tar";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { artifactRoutes } from "./artifacts-api.js";

/** One raw ustar entry: tar itself will not write the hostile ones. */
function rawEntry(name: string, type: "0" | "2" | "5", body = "", linkname = ""): Buffer {
  const header = Buffer.alloc(512);
  const field = (value: string, offset: number, length: number) => header.write(value, offset, length, "utf8");
  const octal = (n: number, offset: number, length: number) => field(`${n.toString(8).padStart(length - 1, "0")}\0`, offset, length);
  field(name, 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(Buffer.byteLength(body), 124, 12);
  octal(0, 136, 12);
  field("        ", 148, 8);
  field(type, 156, 1);
  field(linkname, 157, 100);
  field("ustar\0", 257, 6);
  field("00", 263, 2);
  const sum = header.reduce((a, b) => a + b, 0);
  field(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}

function rawTar(...entries: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}

async function pack(cwd: string, entries: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of create({ cwd, gzip: true, portable: true }, entries) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("POST /artifacts", () => {
  let dir: string;
  let server: Server;
  let url: string;
  const MAX = 64 * 1024;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "riff-artifacts-api-"));
    const [route] = artifactRoutes({ artifacts: new LocalArtifactStore(join(dir, "kept")), uploads: join(dir, "uploads"), maxBytes: MAX });
    server = createServer((req, res) => {
      if (route === undefined) throw new Error("no route");
      route[2](req, res, [], new URLSearchParams()).catch((err: unknown) => sendError(res, err));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: Buffer, headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", body, headers: { "content-type": "application/gzip", ...headers } });
  const codeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  it("stores a folder under the digest riff computes for it, and a file by its name", async () => {
    const src = join(dir, "src");
    mkdirSync(join(src, "lib"), { recursive: true });
    writeFileSync(join(src, "square.js"), "module.exports = (x) => x ** 2\n");
    writeFileSync(join(src, "lib", "util.js"), "exports.id = (x) => x\n");
    const folder = await post(await pack(src, ["."]));
    expect(folder.status).toBe(201);
    expect(await folder.json()).toEqual({ digest: artifactDigest(src), entry: "" });

    const file = await post(await pack(src, ["square.js"]), { "riff-artifact-entry": "square.js" });
    expect(file.status).toBe(201);
    expect(await file.json()).toEqual({ digest: artifactDigest(join(src, "square.js")), entry: "square.js" });
    // Nothing stays behind in the uploads folder.
    expect(readFileSync(join(dir, "kept", `${artifactDigest(src)}.entry`), "utf8")).toBe("");
  });

  it("refuses links, paths leaving the root, absolute paths and what is not a gzipped tar", async () => {
    const src = join(dir, "linked");
    mkdirSync(src);
    symlinkSync("/etc/passwd", join(src, "passwd"));
    const link = await post(await pack(src, ["."]));
    expect(link.status).toBe(400);
    expect(await codeOf(link)).toBe("RIFF_ARTIFACT_INVALID");

    for (const name of ["../escape.js", "a/../../escape.js", "/abs.js"]) {
      const res = await post(rawTar(rawEntry(name, "0", "x")));
      expect(res.status, name).toBe(400);
      expect(await codeOf(res)).toBe("RIFF_ARTIFACT_INVALID");
    }
    const hard = await post(rawTar(rawEntry("a.js", "0", "x"), rawEntry("b.js", "1", "", "a.js")));
    expect(await codeOf(hard)).toBe("RIFF_ARTIFACT_INVALID");
    const garbage = await post(Buffer.from("not a tar at all"));
    expect(garbage.status).toBe(400);
    expect(await codeOf(garbage)).toBe("RIFF_ARTIFACT_INVALID");
    const plain = await post(Buffer.from("x"), { "content-type": "application/json" });
    expect(plain.status).toBe(415);
    const missing = await post(rawTar(rawEntry("other.js", "0", "x")), { "riff-artifact-entry": "square.js" });
    expect(await codeOf(missing)).toBe("RIFF_ARTIFACT_INVALID");
    const sneaky = await post(rawTar(rawEntry("x.js", "0", "x")), { "riff-artifact-entry": "../x.js" });
    expect(await codeOf(sneaky)).toBe("RIFF_ARTIFACT_INVALID");
  });

  it("answers 413 past the packed limit and past four times it unpacked (a gzip bomb)", async () => {
    const big = await post(Buffer.alloc(MAX + 1, 1));
    expect(big.status).toBe(413);
    expect(await codeOf(big)).toBe("RIFF_ARTIFACT_TOO_LARGE");
    // Zeros compress about a thousandfold: small on the wire, large on disk.
    const bomb = rawTar(rawEntry("zeros.bin", "0", "\0".repeat(MAX * 5)));
    expect(bomb.length).toBeLessThan(MAX);
    const res = await post(bomb);
    expect(res.status).toBe(413);
    expect(await codeOf(res)).toBe("RIFF_ARTIFACT_TOO_LARGE");
  });
});
