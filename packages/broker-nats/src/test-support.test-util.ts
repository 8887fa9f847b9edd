import { randomBytes } from "node:crypto";
import type { Logger, LogLevel } from "@riff/core";
import { connect, type NatsConnection } from "nats";
import { afterAll, beforeAll } from "vitest";
import { startTestNatsServer, type TestNatsServer } from "./nats-server.test-util.js";

/** A prefix no other test, run or user of a shared server has. */
export function uniquePrefix(): string {
  return `rt${randomBytes(6).toString("hex")}`;
}

/** Deletes the streams (partitions and KV buckets) under `prefix` on `servers`, and nothing else. */
export async function removePrefix(prefix: string, servers: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await nc.jetstreamManager();
    const ours: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(`${prefix}_`) || name.startsWith(`KV_${prefix}_`)) ours.push(name);
    }
    for (const name of ours) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/** A private server and a client on it, for one test file: started before its tests, stopped after. */
export function useTestServer(): { readonly server: TestNatsServer; readonly nc: NatsConnection } {
  const env = {} as { server: TestNatsServer; nc: NatsConnection };
  beforeAll(async () => {
    env.server = await startTestNatsServer();
    env.nc = await connect({ servers: env.server.url });
  });
  afterAll(async () => {
    await env.nc?.close();
    await env.server?.stop();
  });
  return env;
}

/** One line a {@link recordingLogger} kept. */
export interface LogLine {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line, with its fields and its parents' fields, in `lines`. */
export function recordingLogger(lines: LogLine[] = [], base: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const at =
    (level: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void =>
      void lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => recordingLogger(lines, { ...base, ...fields }),
  };
}

/**
 * Resolves once `condition()` is truthy, looking every 10 ms; throws naming `what` after
 * `timeoutMs`. For waiting on a state the code under test reaches by itself (a reconnect),
 * instead of sleeping for a guessed time.
 */
export async function waitFor(what: string, condition: () => unknown, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** UTF-8 bytes of `s`. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
