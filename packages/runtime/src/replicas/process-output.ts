import type { Readable } from "node:stream";
import type { LogLine } from "../replica.js";

/** @default 20 lines of stderr kept to explain a failure. */
export const DEFAULT_TAIL_LINES = 20;

/** The last lines a process wrote, to quote in an error. */
export class LineTail {
  private readonly lines: string[] = [];
  constructor(private readonly max = DEFAULT_TAIL_LINES) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  get last(): string | undefined {
    return this.lines.at(-1);
  }

  text(): string {
    return this.lines.join("\n");
  }
}

/** Calls `onLine` for each line of a text stream, and for a last line without a newline. */
export function forEachLine(stream: Readable | null | undefined, onLine: (line: string) => void): void {
  if (stream === null || stream === undefined) return;
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  });
  stream.on("end", () => {
    if (rest !== "") onLine(rest);
    rest = "";
  });
}

/** Sends a process's stream to the replica's logs, keeping stderr's tail for error messages. */
export function pipeToLogs(
  stream: Readable | null | undefined,
  name: LogLine["stream"],
  replica: string,
  onLog: ((line: LogLine) => void) | undefined,
  tail?: LineTail,
): void {
  forEachLine(stream, (line) => {
    tail?.push(line);
    onLog?.({ replica, stream: name, line });
  });
}

/** `exit code 3` or `SIGKILL`, as FramedReplica words it. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ?? `exit code ${String(code)}`;
}
