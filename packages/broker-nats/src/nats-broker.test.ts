import { afterAll, describe, expect, it } from "vitest";
import { describeBrokerConformance } from "@riff/broker/conformance";
import { createNatsBroker } from "./index.js";
import { startTestNatsServer, type TestNatsServer } from "./nats-server.test-util.js";
import { removePrefix, uniquePrefix } from "./test-support.test-util.js";

/**
 * A nats-server of this file's own (configured as docs/broker-nats.md asks), started on first
 * use; RIFF_NATS_URL points the suite at another server instead.
 */
let server: Promise<TestNatsServer> | undefined;
async function serverUrl(): Promise<string> {
  const given = process.env.RIFF_NATS_URL;
  if (given !== undefined && given !== "") return given;
  server ??= startTestNatsServer();
  return (await server).url;
}
afterAll(async () => {
  await (await server)?.stop();
});

describeBrokerConformance("NatsBroker", async () => {
  const prefix = uniquePrefix();
  const broker = createNatsBroker({ servers: await serverUrl(), prefix });
  await broker.start();
  return {
    broker,
    async cleanup() {
      await broker.stop();
      await removePrefix(prefix, await serverUrl());
    },
  };
});

// The machine's shared server keeps the default max_payload (1 MiB, headers included).
describe("NatsBroker on a server with the default max_payload", () => {
  const shared = "nats://127.0.0.1:4222";

  it("refuses a message over the server's limit with RIFF_MESSAGE_TOO_LARGE, naming the limit", async () => {
    const prefix = uniquePrefix();
    const broker = createNatsBroker({ servers: shared, prefix });
    await broker.start();
    try {
      await broker.createTopic("big");
      // 1 MiB is within riff's own limit; with its headers it is over the server's.
      const err = await broker.publish("big", { payload: new Uint8Array(1024 * 1024), headers: { "x-a": ["b"] } }).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string },
      );
      expect(err?.code).toBe("RIFF_MESSAGE_TOO_LARGE");
      expect(err?.message).toContain("max_payload");
      expect((await broker.publish("big", { payload: new Uint8Array(512 * 1024) })).offset).toBe(0);
    } finally {
      await broker.stop();
      await removePrefix(prefix, shared);
    }
  });
});
