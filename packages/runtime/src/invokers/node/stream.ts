import { Readable, Writable } from "node:stream";
import { finished } from "node:stream/promises";
import type { Headers } from "@riff/core";
import { encodeError, FrameType, type Frame } from "@riff/protocol";
import { userStack, type UserFunction } from "./function-module.js";
import { argumentFor, replyFor } from "./message-shape.js";

/** An async iterable fed by pushes: the inputs of one stream. */
class InputQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;

  push(item: T): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  end(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
    };
  }
}

/**
 * The stream functions of one replica: each STREAM_OPEN runs the function once over an async
 * iterable of that stream's inputs; whatever it yields goes back as STREAM_OUTPUT frames.
 */
export class StreamSessions {
  private readonly sessions = new Map<number, InputQueue<unknown>>();

  constructor(
    private readonly fn: UserFunction,
    private readonly send: (frame: Frame) => void,
    private readonly onIdle: () => void,
  ) {}

  get active(): number {
    return this.sessions.size;
  }

  handle(frame: Frame): void {
    if (frame.type === FrameType.STREAM_OPEN) this.open(frame.id);
    else if (frame.type === FrameType.STREAM_INPUT) this.sessions.get(frame.id)?.push(argumentFor(this.fn, frame.headers, frame.payload));
    else if (frame.type === FrameType.STREAM_END) this.sessions.get(frame.id)?.end();
  }

  /** Ends every stream's input (on shutdown): functions flush what they hold and finish. */
  endAll(): void {
    for (const q of this.sessions.values()) q.end();
  }

  private open(id: number): void {
    const inputs = new InputQueue<unknown>();
    this.sessions.set(id, inputs);
    const defaultType = this.fn.$defaultContentType ?? "text/plain";
    const output = (value: unknown) => {
      const { headers, payload } = replyFor(value, undefined, defaultType);
      this.send({ type: FrameType.STREAM_OUTPUT, id, headers, payload });
    };
    const run = async () => {
      if (this.fn.$interactionModel === "node-streams") await runNodeStreams(this.fn, inputs, output);
      else for await (const value of this.fn(inputs) as AsyncIterable<unknown>) output(value);
      this.send({ type: FrameType.STREAM_END, id, headers: {} as Headers, payload: new Uint8Array(0) });
    };
    run()
      .catch((err: unknown) => {
        const e = err instanceof Error ? err : new Error(String(err));
        const stack = userStack(e);
        const body = { name: e.name, code: "RIFF_FUNCTION_ERROR", message: e.message, ...(stack === undefined ? {} : { stack }) };
        this.send({ type: FrameType.ERROR, id, headers: {}, payload: encodeError(body) });
      })
      .finally(() => {
        this.sessions.delete(id);
        if (this.sessions.size === 0) this.onIdle();
      });
  }
}

/**
 * Project riff's `node-streams` model: the function gets an object-mode Readable of the inputs
 * and an object-mode Writable for its outputs, and its return value is ignored; the stream
 * ends when the function ends the Writable (or it fails with the Writable's error).
 */
async function runNodeStreams(fn: UserFunction, inputs: AsyncIterable<unknown>, output: (value: unknown) => void): Promise<void> {
  const input = Readable.from(inputs);
  const writable = new Writable({
    objectMode: true,
    write(chunk: unknown, _encoding, done) {
      output(chunk);
      done();
    },
  });
  const returned = (fn as (i: Readable, o: Writable) => unknown)(input, writable);
  // An async function's rejection fails the stream as a thrown error would.
  if (returned instanceof Promise) returned.catch((err: unknown) => writable.destroy(err instanceof Error ? err : new Error(String(err))));
  await finished(writable);
}
