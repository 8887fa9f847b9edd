import type { ChildProcess } from "node:child_process";
import type { Socket } from "node:net";

/** The part of a socket a replica's frames use, so stdin+stdout can stand in for fd 3. */
export interface Channel {
  write(chunk: Uint8Array): boolean;
  cork(): void;
  uncork(): void;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  removeAllListeners(event: "data"): unknown;
}

/** A child's frame channel: fd 3 (a socket), or for the `stdio` transport its stdin and stdout. */
export function channelOf(child: ChildProcess, transport: "fd3" | "stdio"): Channel {
  return transport === "stdio" ? new DuplexChannel(child) : (child.stdio[3] as Socket);
}

/** stdin and stdout of a child as one channel (the `stdio` transport, for runtimes that cannot open fd 3). */
class DuplexChannel implements Channel {
  constructor(private readonly child: ChildProcess) {}
  write(chunk: Uint8Array): boolean {
    return this.child.stdin?.write(chunk) ?? false;
  }
  cork(): void {
    this.child.stdin?.cork();
  }
  uncork(): void {
    this.child.stdin?.uncork();
  }
  on(event: "data", listener: (chunk: Buffer) => void): this;
  on(event: "error", listener: (err: Error) => void): this;
  on(event: "data" | "error", listener: ((chunk: Buffer) => void) | ((err: Error) => void)): this {
    if (event === "data") this.child.stdout?.on("data", listener as (chunk: Buffer) => void);
    else this.child.stdin?.on("error", listener as (err: Error) => void);
    return this;
  }
  removeAllListeners(event: "data"): this {
    this.child.stdout?.removeAllListeners(event);
    return this;
  }
}
