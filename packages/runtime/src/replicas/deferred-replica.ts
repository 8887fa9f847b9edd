import { RiffError, type Headers } from "@riff/core";
import type { InvokeResult, Replica, ReplicaState } from "../replica.js";

/** A stream as FramedReplica offers it; written out here so the wrapper forwards it without knowing more. */
interface StreamCapable {
  readonly shape?: "request-reply" | "stream";
  openStream?(
    headers: Headers,
    listener: { output(headers: Headers, payload: Uint8Array): void; end(error?: Error): void },
  ): { send(headers: Headers, payload: Uint8Array): void; end(): void };
}

/**
 * A replica whose real one can only be built asynchronously (the interpreter must be located,
 * the Java shim compiled), while `Invoker.createReplica` is synchronous. `start()` builds the
 * inner replica, then starts it; everything else is the inner replica's.
 */
export class DeferredReplica implements Replica {
  private inner: (Replica & StreamCapable) | undefined;
  private failed = false;
  private stopped = false;
  private readonly startedAtCreation = Date.now();

  constructor(
    readonly id: string,
    private readonly build: () => Promise<Replica>,
  ) {}

  get state(): ReplicaState {
    return this.inner?.state ?? (this.failed ? "failed" : this.stopped ? "stopped" : "starting");
  }
  get pid(): number | undefined {
    return this.inner?.pid;
  }
  get startedAt(): number {
    return this.inner?.startedAt ?? this.startedAtCreation;
  }
  get handled(): number {
    return this.inner?.handled ?? 0;
  }
  get inFlight(): number {
    return this.inner?.inFlight ?? 0;
  }
  get shape(): "request-reply" | "stream" | undefined {
    return this.inner?.shape;
  }
  get exited(): Promise<string> {
    return this.inner?.exited ?? Promise.resolve("not started");
  }

  async start(): Promise<void> {
    let inner: Replica;
    try {
      inner = await this.build();
    } catch (err) {
      this.failed = true;
      throw err;
    }
    // Stopped while the launch was being worked out: start nothing that no one would stop.
    if (this.stopped) throw new RiffError("RIFF_SHUTTING_DOWN", `replica ${this.id} was stopped before it started`);
    this.inner = inner;
    await inner.start();
  }

  invoke(headers: Headers, payload: Uint8Array): Promise<InvokeResult> {
    if (this.inner === undefined) return Promise.reject(new RiffError("RIFF_SHUTTING_DOWN", `replica ${this.id} is not started`));
    return this.inner.invoke(headers, payload);
  }

  /** Forwards to the inner replica, which must be a started stream function. */
  openStream(
    headers: Headers,
    listener: { output(headers: Headers, payload: Uint8Array): void; end(error?: Error): void },
  ): { send(headers: Headers, payload: Uint8Array): void; end(): void } {
    if (this.inner?.openStream === undefined) throw new RiffError("RIFF_PROTOCOL_ERROR", `replica ${this.id} cannot stream`);
    return this.inner.openStream(headers, listener);
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    await this.inner?.stop(graceMs);
  }

  kill(): void {
    this.inner?.kill();
  }
}
