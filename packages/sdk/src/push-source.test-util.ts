/** An input that a test feeds by hand, recording how the window function pulls and closes it. */
export interface PushSource<T> extends AsyncIterable<T> {
  push(...items: T[]): void;
  end(): void;
  fail(error: unknown): void;
  /** next() calls made. */
  readonly pulls: number;
  /** Whether return() was called. */
  readonly returned: boolean;
}

export function createPushSource<T>(): PushSource<T> {
  const queue: IteratorResult<T>[] = [];
  let waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  let failure: { error: unknown } | undefined;
  let pulls = 0;
  let returned = false;
  const deliver = (r: IteratorResult<T>): void => {
    if (waiter === undefined) queue.push(r);
    else {
      waiter.resolve(r);
      waiter = undefined;
    }
  };
  const iterator: AsyncIterator<T> = {
    next() {
      pulls++;
      const r = queue.shift();
      if (r !== undefined) return Promise.resolve(r);
      if (failure !== undefined) return Promise.reject(failure.error);
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return() {
      returned = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return {
    [Symbol.asyncIterator]: () => iterator,
    push: (...items) => {
      for (const value of items) deliver({ done: false, value });
    },
    end: () => deliver({ done: true, value: undefined }),
    fail(error) {
      failure = { error };
      waiter?.reject(error);
      waiter = undefined;
    },
    get pulls() {
      return pulls;
    },
    get returned() {
      return returned;
    },
  };
}

/** Lets every pending promise chain run: a turn of the event loop, not a sleep. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Starts a next() and records its result, so a test can check that nothing was emitted yet. */
export function watch<T>(it: AsyncIterator<T>): { readonly value: IteratorResult<T> | undefined; readonly promise: Promise<IteratorResult<T>> } {
  let value: IteratorResult<T> | undefined;
  const promise = it.next().then((r) => (value = r));
  return {
    get value() {
      return value;
    },
    promise,
  };
}

/** All windows of a finite input. */
export async function collect<T>(windows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const w of windows) out.push(w);
  return out;
}

/** An event-time item, like a riff message. */
export interface Msg {
  timestamp: number;
  payload: string;
}

export const msg = (timestamp: number, payload = `m${timestamp}`): Msg => ({ timestamp, payload });

/** Windows reduced to what tests compare: bounds, payloads and key. */
export function shape(w: { start: number; end: number; items: Msg[]; key?: unknown }): unknown {
  const base = { start: w.start, end: w.end, items: w.items.map((m) => m.payload) };
  return "key" in w ? { ...base, key: w.key } : base;
}

/** The window in an iterator result, failing the test if the iterator ended instead. */
export function valueOf<T>(result: IteratorResult<T, unknown> | undefined): T {
  if (result === undefined || result.done === true) throw new Error("expected a window, got none or the end");
  return result.value;
}
