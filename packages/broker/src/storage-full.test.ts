import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { RiffError } from "@riff/core";
import { bytes, str } from "./conformance-helpers.js";
import { SqliteBroker, createSqliteBroker } from "./index.js";

/** Mounts a tiny tmpfs, so the disk really fills up; false where mounting is not allowed. */
function mountTiny(dir: string): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("SqliteBroker on a full disk", () => {
  let dir: string | undefined;
  let mounted = false;
  let broker: SqliteBroker | undefined;
  afterEach(async () => {
    await broker?.stop();
    if (mounted && dir !== undefined) execFileSync("umount", [dir]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("fails publishes with RIFF_STORAGE_FULL and keeps serving reads", async (ctx) => {
    dir = mkdtempSync(join(tmpdir(), "riff-full-"));
    mounted = mountTiny(dir);
    // Needs root (or CAP_SYS_ADMIN) for the mount; elsewhere there is no honest way to fill a disk.
    if (!mounted) ctx.skip();
    broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
    await broker.start();
    await broker.createTopic("numbers");
    const first = await broker.publish("numbers", { payload: bytes("kept") });
    const payload = new Uint8Array(64 * 1024);
    let error: unknown;
    for (let i = 0; i < 64 && error === undefined; i++) {
      await broker.publish("numbers", { payload }).catch((err: unknown) => {
        error = err;
      });
    }
    expect(error).toBeInstanceOf(RiffError);
    expect((error as RiffError).code).toBe("RIFF_STORAGE_FULL");
    expect((error as RiffError).status).toBe(507);
    expect((error as RiffError).message).toContain("'numbers'");
    const [kept] = await broker.read("numbers", 0, first.offset, 1);
    expect(str(kept?.payload ?? new Uint8Array())).toBe("kept");
    const { end } = (await broker.endOffsets("numbers"))[0] ?? { end: 0 };
    expect((await broker.read("numbers", 0, 0, 1000)).length).toBe(end);
  });
});
