import { randomBytes } from "node:crypto";
import { silentLogger } from "@riff/core";
import { type Msg, StorageType, headers } from "nats";
import { afterEach, describe, expect, it } from "vitest";
import { useTestServer } from "./test-support.test-util.js";
import { MSG_ID_HEADER, type PublisherOptions, PublishError, RETRY_BASE_MS, StreamPublisher } from "./publisher.js";

// The publisher against a real JetStream. Where a test needs JetStream to misbehave (an ack
// lost, never sent), a relay on the same server stands between the publisher and the stream:
// it forwards to the real stream, and drops or holds the acks as the test says.

const env = useTestServer();

const publishers: StreamPublisher[] = [];
afterEach(() => {
  for (const p of publishers.splice(0)) p.close();
});

function publisher(options: Partial<PublisherOptions> = {}): StreamPublisher {
  const p = new StreamPublisher(env.nc, {
    idPrefix: randomBytes(6).toString("hex"),
    window: 4096,
    ackTimeoutMs: 2_000,
    retryMs: 5_000,
    isConnected: () => !env.nc.isClosed(),
    logger: silentLogger,
    ...options,
  });
  publishers.push(p);
  return p;
}

/** A fresh stream on one subject; returns the subject. */
async function stream(): Promise<{ name: string; subject: string }> {
  const name = `pt${randomBytes(5).toString("hex")}`;
  const jsm = await env.nc.jetstreamManager();
  await jsm.streams.add({ name, subjects: [`${name}.s`], storage: StorageType.File, duplicate_window: 60e9 });
  return { name, subject: `${name}.s` };
}

const bytes = (s: string) => new TextEncoder().encode(s);

/** Resolves once `cond()` holds, polling every few ms; throws after `ms`. */
async function until(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("StreamPublisher", () => {
  it("resolves acks with the stream's positions, in call order, per subject", async () => {
    const [a, b] = [await stream(), await stream()];
    const p = publisher();
    const acks = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => p.publish(i % 2 === 0 ? a.subject : b.subject, bytes(`m${i}`))),
    );
    expect(acks.filter((_, i) => i % 2 === 0).map((ack) => ack.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(acks.filter((_, i) => i % 2 === 1).map((ack) => ack.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(new Set(acks.map((ack) => ack.stream))).toEqual(new Set([a.name, b.name]));
    expect(acks.every((ack) => !ack.duplicate)).toBe(true);
    const last = await (await env.nc.jetstreamManager()).streams.getMessage(a.name, { seq: 1000 });
    expect(new TextDecoder().decode(last.data)).toBe("m1998");
    expect(p.inFlight).toBe(0);
  });

  it("stores a message published twice with one id once, answering the same seq", async () => {
    const { name, subject } = await stream();
    const idPrefix = `same${randomBytes(4).toString("hex")}`;
    // Two publishers with one prefix number their messages alike: their first ids are equal.
    const first = await publisher({ idPrefix }).publish(subject, bytes("original"));
    const again = await publisher({ idPrefix }).publish(subject, bytes("copy"));
    expect(first).toEqual({ stream: name, seq: 1, duplicate: false });
    expect(again).toEqual({ stream: name, seq: 1, duplicate: true });
    const si = await (await env.nc.jetstreamManager()).streams.info(name);
    expect(si.state.messages).toBe(1);
  });

  it("retries a publish whose ack was lost with the same id, and it is stored once", async () => {
    const { name, subject } = await stream();
    const relayed: string[] = [];
    // Forwards every attempt to the stream; drops the first ack, passes the rest back.
    const relay = env.nc.subscribe(`${name}.in`, {
      callback: (_err, m: Msg) => {
        const id = m.headers?.get(MSG_ID_HEADER) ?? "";
        relayed.push(id);
        const h = headers();
        h.set(MSG_ID_HEADER, id);
        void env.nc.request(subject, m.data, { headers: h, timeout: 2_000 }).then((ack) => {
          if (relayed.length > 1) m.respond(ack.data);
        });
      },
    });
    try {
      const ack = await publisher({ ackTimeoutMs: 200 }).publish(`${name}.in`, bytes("once"));
      expect(relayed.length).toBe(2);
      expect(relayed[1]).toBe(relayed[0]);
      expect(ack).toEqual({ stream: name, seq: 1, duplicate: true });
      expect((await (await env.nc.jetstreamManager()).streams.info(name)).state.messages).toBe(1);
    } finally {
      relay.unsubscribe();
    }
  });

  it("keeps no more than the window in flight; the rest wait for room, in order", async () => {
    const subject = `hold${randomBytes(5).toString("hex")}`;
    const held: Msg[] = [];
    // Answers nothing until told: every publish it receives stays in flight.
    const holder = env.nc.subscribe(subject, { callback: (_err, m) => void held.push(m) });
    try {
      const p = publisher({ window: 8, ackTimeoutMs: 30_000, retryMs: 60_000 });
      const acks = Array.from({ length: 20 }, () => p.publish(subject, bytes("x")));
      await until("8 publishes received", () => held.length === 8);
      await env.nc.flush();
      expect(held.length).toBe(8);
      expect(p.inFlight).toBe(8);
      // Each answer lets one more in, in call order.
      for (let seq = 1; seq <= 20; seq++) {
        const m = held[seq - 1];
        if (m === undefined) throw new Error(`publish ${seq} not received`);
        m.respond(bytes(JSON.stringify({ stream: "held", seq })));
        await until(`room for publish ${seq + 8}`, () => held.length === Math.min(20, seq + 8));
        expect(p.inFlight).toBeLessThanOrEqual(8);
      }
      expect((await Promise.all(acks)).map((ack) => ack.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const ids = held.map((m) => m.headers?.get(MSG_ID_HEADER));
      expect(new Set(ids).size).toBe(20);
    } finally {
      holder.unsubscribe();
    }
  });

  it("fails a publish that is never acknowledged as retryable, after retrying it with its id", async () => {
    const subject = `mute${randomBytes(5).toString("hex")}`;
    const seen: string[] = [];
    const mute = env.nc.subscribe(subject, { callback: (_err, m) => void seen.push(m.headers?.get(MSG_ID_HEADER) ?? "") });
    try {
      const started = Date.now();
      const err = await publisher({ ackTimeoutMs: 100, retryMs: 700 })
        .publish(subject, bytes("lost"))
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      const failure = err as PublishError;
      expect(failure.reason).toBe("timeout");
      expect(failure.retryable).toBe(true);
      expect(failure.attempts).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBe(failure.attempts);
      expect(new Set(seen)).toEqual(new Set([failure.msgId]));
      // The budget bounds it: the last attempt starts within retryMs and waits one ack timeout.
      expect(Date.now() - started).toBeLessThan(700 + 100 + 500);
    } finally {
      mute.unsubscribe();
    }
  });

  it("retries while no stream listens (503 no responders), and stores once one does", async () => {
    const name = `late${randomBytes(5).toString("hex")}`;
    const started = Date.now();
    // Sent before the stream exists, on the connection that then creates it: the server sees
    // the publish first and answers 503 at once; the retry, RETRY_BASE_MS later, is stored.
    // The publisher sends at the end of the event loop's turn (setImmediate); an immediate
    // queued after its own runs once that send is written.
    const pending = publisher().publish(`${name}.s`, bytes("early"));
    await new Promise<void>((resolve) => setImmediate(resolve));
    const jsm = await env.nc.jetstreamManager();
    await jsm.streams.add({ name, subjects: [`${name}.s`], storage: StorageType.File });
    const ack = await pending;
    expect(ack).toEqual({ stream: name, seq: 1, duplicate: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(RETRY_BASE_MS);
    expect((await jsm.streams.info(name)).state.messages).toBe(1);
  });

  it("refuses at once while disconnected, and fails what is queued when closed", async () => {
    let connected = false;
    const p = publisher({ isConnected: () => connected });
    const err = await p.publish("any.subject", bytes("x")).then(() => undefined, (e: unknown) => e as PublishError);
    expect(err?.reason).toBe("disconnected");
    connected = true;
    const { subject } = await stream();
    const q = publisher({ window: 1 });
    const first = q.publish(subject, bytes("a"));
    const second = q.publish(subject, bytes("b")).then(() => undefined, (e: unknown) => e as PublishError);
    q.close();
    expect((await second)?.reason).toBe("closed");
    expect(await first.then(() => "stored", (e: PublishError) => e.reason)).toBe("closed");
  });
});
