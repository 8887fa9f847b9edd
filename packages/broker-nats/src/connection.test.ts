import { RiffError } from "@riff/core";
import { describe, expect, it } from "vitest";
import { createNatsBroker } from "./index.js";
import { startRestartableNatsServer } from "./restartable-server.test-util.js";
import { bytes, recordingLogger, uniquePrefix, waitFor } from "./test-support.test-util.js";

async function rejection(promise: Promise<unknown>): Promise<RiffError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RiffError);
  return err as RiffError;
}

describe("NatsBroker connection", () => {
  it("fails start() at once with RIFF_BROKER_UNAVAILABLE when no server answers", async () => {
    const broker = createNatsBroker({ servers: "nats://127.0.0.1:1" });
    const started = Date.now();
    const err = await rejection(broker.start());
    expect(err.code).toBe("RIFF_BROKER_UNAVAILABLE");
    expect(err.message).toContain("cannot connect to the NATS server at nats://127.0.0.1:1");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(broker.state).toBe("stopped");
    expect(broker.health().connected).toBe(false);
  });

  it("takes a tls:// URL as asking for TLS: a server without it is refused, saying so", async () => {
    await using server = await startRestartableNatsServer();
    const broker = createNatsBroker({ servers: server.url.replace("nats://", "tls://") });
    const err = await rejection(broker.start());
    expect(err.code).toBe("RIFF_BROKER_UNAVAILABLE");
    expect(err.message).toContain("TLS was asked for (a tls:// URL or --nats-tls-*) but the server does not offer it; use nats:// for a server without TLS");
    expect(broker.state).toBe("stopped");
  });

  it("refuses at once while NATS is down, and reconnects by itself when it is back", async () => {
    await using server = await startRestartableNatsServer();
    const logger = recordingLogger();
    const broker = createNatsBroker({ servers: server.url, prefix: uniquePrefix(), logger });
    await broker.start();
    try {
      const address = server.url.replace("nats://", "");
      expect(broker.health()).toMatchObject({ connected: true, server: address });
      await broker.createTopic("events", { partitions: 2 });
      await broker.publishBatch("events", [0, 0, 1].map((partition) => ({ payload: bytes("before"), partition })));

      const down = Date.now();
      await server.kill();
      await waitFor("the broker notices the server is gone", () => !broker.health().connected);
      expect(broker.health().since).toBeGreaterThanOrEqual(down);
      expect(logger.lines).toContainEqual(expect.objectContaining({ level: "warn", msg: "lost the connection to NATS; reconnecting" }));

      const asked = Date.now();
      const err = await rejection(broker.publish("events", { payload: bytes("while down") }));
      expect(Date.now() - asked).toBeLessThan(100);
      expect(err.code).toBe("RIFF_BROKER_UNAVAILABLE");
      expect(err.status).toBe(503);
      expect(err.message).toMatch(/^NATS is unreachable since \d{4}-\d\d-\d\dT.* riff reconnects by itself$/);
      expect(err.hint).toContain(server.url);
      expect((await rejection(broker.publishBatch("events", [{ payload: bytes("x") }]))).code).toBe("RIFF_BROKER_UNAVAILABLE");
      expect((await rejection(broker.describeTopic("events"))).code).toBe("RIFF_BROKER_UNAVAILABLE");
      expect((await rejection(broker.createTopic("other"))).code).toBe("RIFF_BROKER_UNAVAILABLE");

      await server.restart();
      await waitFor("the broker reconnects by itself", () => broker.health().connected, 20_000);
      expect(broker.health().server).toBe(address);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ level: "info", msg: "reconnected to NATS", fields: expect.objectContaining({ server: address }) }),
      );
      expect(await broker.publish("events", { payload: bytes("after"), partition: 0 })).toEqual({
        topic: "events",
        partition: 0,
        offset: 2,
      });
      const stored = await broker.read("events", 0, 0, 10);
      expect(stored.map((m) => new TextDecoder().decode(m.payload))).toEqual(["before", "before", "after"]);
    } finally {
      await broker.stop();
    }
  });
});
