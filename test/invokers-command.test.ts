import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRiff, waitForLog, type RiffFixture } from "./helpers/riff.js";
import { deploy, errorOf, expectContentRefusals, publishHello, request } from "./invokers-shared.js";

const script = (text: string) => ({ text: `#!/bin/sh\n${text}\n`, mode: 0o755 });

// The command and command-lines invokers through a real daemon, with real sh processes.
describe("the command invoker (a process per message)", () => {
  let riff: RiffFixture;

  beforeAll(async () => {
    riff = await startRiff();
    const deploys = await Promise.all([
      deploy(riff, "command", "upper", { "upper.sh": script("tr a-z A-Z") }),
      // Counts its runs in a file of its revision folder (its HOME), to prove when it did not run.
      deploy(riff, "command", "count", { "count.sh": script('echo run >> "$HOME/runs"; wc -l < "$HOME/runs" | tr -d " \\n"') }),
      deploy(riff, "command", "fail", { "fail.sh": script('echo "first line" >&2; echo "it went wrong: $(cat)" >&2; exit 3') }),
      deploy(riff, "command", "noisy", { "noisy.sh": script('echo "to the logs: $(cat)" >&2; echo done') }),
      // No exec bit on the file: it has a #! line, so riff makes its own copy executable.
      deploy(riff, "command", "nobit", { "nobit.sh": "#!/bin/sh\ncat\n" }),
      deploy(riff, "command", "tr", { "README": "the command is in --handler\n" }, ["--handler", "tr a-z A-Z"]),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("passes riff's conformance check: publish hello --reply prints HELLO", async () => {
    const r = await publishHello(riff, "upper-in");
    expect(r.stdout).toBe("HELLO\n");
  });

  it("runs a command line given as --handler, without a shell", async () => {
    expect((await publishHello(riff, "tr-in")).stdout).toBe("HELLO\n");
  });

  it("makes a #! script executable in its revision copy", async () => {
    expect(await request(riff, "nobit-in", "as is")).toMatchObject({ status: 200, text: "as is" });
  });

  it("replies with the request's type as Accept allows; bytes pass through unchanged", async () => {
    const json = await request(riff, "nobit-in", '{"a":1}', { "content-type": "application/json" });
    expect(json).toMatchObject({ type: "application/json", text: '{"a":1}' });
    const bytes = await request(riff, "nobit-in", new Uint8Array([0, 1, 254, 255]), {
      "content-type": "application/octet-stream",
      accept: "text/html;q=0.9, application/*;q=0.8",
    });
    expect(bytes.type).toBe("application/octet-stream");
    expect([...bytes.bytes]).toEqual([0, 1, 254, 255]);
    const text = await request(riff, "nobit-in", "x", { "content-type": "text/plain; charset=utf-8", accept: "text/plain; charset=utf-8" });
    expect(text.type).toBe("text/plain");
  });

  it("refuses an unsupported Content-Type or Accept without running the command", async () => {
    const before = Number((await request(riff, "count-in", "x")).text);
    await expectContentRefusals(riff, "count-in");
    expect(Number((await request(riff, "count-in", "x")).text)).toBe(before + 1);
  });

  it("a non-zero exit is a 500 carrying the exit code and the tail of stderr", async () => {
    const r = await request(riff, "fail-in", "input");
    expect(r.status).toBe(500);
    const err = errorOf(r.text);
    expect(err.code).toBe("RIFF_FUNCTION_ERROR");
    expect(err.message).toContain("exit code 3");
    expect(err.message).toContain("first line\nit went wrong: input");
    expect((await request(riff, "fail-in", "again")).status).toBe(500);
    expect((await publishHello(riff, "upper-in")).stdout).toBe("HELLO\n");
  });

  it("stderr goes to riff logs", async () => {
    const log = waitForLog(riff.home, "noisy", /to the logs: marker-42/);
    expect((await request(riff, "noisy-in", "marker-42")).text).toBe("done\n");
    expect(await log.found).toContain("stderr");
  });

  it("a file that is neither executable nor a #! script fails riff create", async () => {
    const r = await deploy(riff, "command", "plain", { "plain.txt": "just text\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("is not executable and has no #! line");
  });

  it("a command that is not on PATH fails riff create", async () => {
    const r = await deploy(riff, "command", "missing", { "x.txt": "" }, ["--handler", "no-such-command-anywhere --flag"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot run 'no-such-command-anywhere' on PATH: not found");
  });
});

describe("the command-lines invoker (one process, a message per line)", () => {
  let riff: RiffFixture;

  beforeAll(async () => {
    riff = await startRiff();
    const deploys = await Promise.all([
      deploy(riff, "command-lines", "upper", { "upper.sh": script('while IFS= read -r line; do printf "%s\\n" "$line" | tr a-z A-Z; done') }),
      deploy(riff, "command-lines", "pid", { "pid.sh": script('while IFS= read -r line; do echo "$$ $line"; done') }),
      // Dies on "die", after a word on stderr; the next message gets a new process.
      deploy(riff, "command-lines", "fragile", {
        "fragile.sh": script('while IFS= read -r line; do if [ "$line" = die ]; then echo "dying on purpose" >&2; exit 7; fi; echo "ok $line"; done'),
      }),
    ]);
    for (const d of deploys) expect(d.stderr + d.stdout).toContain("created");
  });
  afterAll(async () => riff[Symbol.asyncDispose]());

  it("passes riff's conformance check: publish hello --reply prints HELLO", async () => {
    expect((await publishHello(riff, "upper-in")).stdout).toBe("HELLO\n");
  });

  it("keeps one process for many messages, in flight together, each reply paired with its message", async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => request(riff, "pid-in", `m${i}`)));
    const pids = new Set(replies.map((r) => r.text.split(" ")[0]));
    expect(pids.size).toBe(1);
    expect(replies.map((r) => r.text.split(" ")[1])).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it("a payload with a newline is refused: one line per message", async () => {
    const r = await request(riff, "upper-in", "two\nlines");
    expect(r.status).toBe(400);
    expect(errorOf(r.text).code).toBe("RIFF_INVALID_ARGUMENT");
    expect((await request(riff, "upper-in", "one line\n")).text).toBe("ONE LINE");
  });

  it("an exit fails the message with the exit code and stderr; the next message starts a new process", async () => {
    const r = await request(riff, "fragile-in", "die");
    expect(r.status).toBe(500);
    expect(errorOf(r.text).message).toMatch(/exit code 7.*dying on purpose/s);
    expect((await request(riff, "fragile-in", "after")).text).toBe("ok after");
  });
});
