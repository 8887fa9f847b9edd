import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DeferredReplica, ExecReplica, LineReplica, type LaunchSpec } from "@riff/runtime";

// The byte-level replica kinds on their own, with real sh processes.
const sh = (script: string): LaunchSpec => ({ command: "/bin/sh", args: ["-c", script], env: { PATH: process.env["PATH"] ?? "" }, cwd: "/" });
const text = (r: { payload: Uint8Array }) => Buffer.from(r.payload).toString("utf8");

describe("ExecReplica", () => {
  it("stop() lets a running process finish and answer before the replica stops", async () => {
    // The command blocks until its input ends; stop() is called while it runs.
    const replica = new ExecReplica({ id: "exec-1", launch: sh("cat; echo ' done'") });
    await replica.start();
    const reply = replica.invoke({}, Buffer.from("in flight"));
    const stopped = replica.stop(10_000);
    expect(replica.state).toBe("stopping");
    expect(text(await reply)).toBe("in flight done\n");
    await stopped;
    expect(replica.state).toBe("stopped");
    expect(await replica.exited).toBe("stopped");
    await expect(replica.invoke({}, Buffer.from("late"))).rejects.toMatchObject({ code: "RIFF_SHUTTING_DOWN" });
  });

  it("a reply over the limit is an error, and the process is killed", async () => {
    const replica = new ExecReplica({ id: "exec-2", launch: sh("head -c 100000 /dev/zero"), maxReplyBytes: 1000 });
    await replica.start();
    await expect(replica.invoke({}, new Uint8Array())).rejects.toMatchObject({
      code: "RIFF_FUNCTION_ERROR",
      message: "the command wrote more than 1000 bytes; the reply limit is 1000",
    });
    await replica.stop(1000);
  });

  it("start() fails for a command that is not executable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "riff-exec-"));
    writeFileSync(join(dir, "data.txt"), "not a program\n", { mode: 0o644 });
    const replica = new ExecReplica({ id: "exec-3", launch: { ...sh(""), command: "./data.txt", cwd: dir } });
    await expect(replica.start()).rejects.toMatchObject({ code: "RIFF_FUNCTION_STARTUP_FAILED", message: expect.stringContaining("is not executable") });
    expect(replica.state).toBe("failed");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("LineReplica", () => {
  it("stop() closes stdin: the loop answers what it holds, then exits 0", async () => {
    const replica = new LineReplica({ id: "line-1", launch: sh('while IFS= read -r l; do echo "<$l>"; done') });
    await replica.start();
    const replies = ["a", "b", "c"].map((m) => replica.invoke({}, Buffer.from(m)));
    await replica.stop(10_000);
    expect((await Promise.all(replies)).map(text)).toEqual(["<a>", "<b>", "<c>"]);
    expect(await replica.exited).toBe("exit code 0");
  });

  it("refuses unsupported content types before writing a line", async () => {
    const replica = new LineReplica({ id: "line-2", launch: sh('while IFS= read -r l; do echo "$l"; done') });
    await replica.start();
    await expect(replica.invoke({ "content-type": ["text/html"] }, Buffer.from("x"))).rejects.toMatchObject({ code: "RIFF_CONTENT_TYPE_UNSUPPORTED" });
    const ok = await replica.invoke({ "content-type": ["application/json"], accept: ["*/*"] }, Buffer.from('{"a":1}'));
    expect(ok.headers["content-type"]).toEqual(["application/json"]);
    expect(replica.inFlight).toBe(0);
    await replica.stop(1000);
  });
});

describe("DeferredReplica", () => {
  it("stopped while its launch is worked out, it starts nothing", async () => {
    let built = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const replica = new DeferredReplica("deferred-1", async () => {
      await gate;
      built = true;
      return new LineReplica({ id: "inner", launch: sh("cat") });
    });
    const starting = replica.start();
    await replica.stop(1000);
    release();
    await expect(starting).rejects.toMatchObject({ code: "RIFF_SHUTTING_DOWN" });
    expect(built).toBe(true);
    expect(replica.state).toBe("stopped");
    expect(replica.pid).toBeUndefined();
  });
});
