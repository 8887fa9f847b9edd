import type { Position } from "@riff/broker";
import { connect } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsBroker, natsNames } from "./index.js";
import type { NatsBroker } from "./nats-broker.js";
import { startTestNatsServer, type TestNatsServer } from "./nats-server.test-util.js";
import { bytes, uniquePrefix, waitFor } from "./test-support.test-util.js";

let server: TestNatsServer;
beforeAll(async () => {
  server = await startTestNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

async function started(prefix: string): Promise<NatsBroker> {
  const broker = createNatsBroker({ servers: server.url, prefix });
  await broker.start();
  return broker;
}

const key = (p: Position) => `${p.partition}:${p.offset}`;
const has = (heard: Position[], p: Position) => heard.some((h) => key(h) === key(p));

describe("onAppend across instances", () => {
  it("tells a listener on one instance of another's publishes, with their positions, once each", async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await started(prefix), await started(prefix)];
    try {
      await a.createTopic("feed", { partitions: 2 });
      const heard: Position[] = [];
      const off = a.onAppend("feed", (positions) => heard.push(...positions));
      // A follows from the end once its consumers exist, which takes a round trip or two: B
      // publishes a probe to each partition until A has heard one there.
      for (const partition of [0, 1]) {
        await waitFor(`A hears B's probes on partition ${partition}`, async () => {
          const probe = await b.publish("feed", { payload: bytes("probe"), partition });
          await waitFor("the probe", () => has(heard, probe), 200).catch(() => undefined);
          return has(heard, probe);
        });
      }
      heard.length = 0;

      const own = await a.publish("feed", { payload: bytes("from a"), partition: 1 });
      expect(heard).toEqual([own]);
      const theirs = await b.publishBatch("feed", [0, 1, 0].map((partition) => ({ payload: bytes("from b"), partition })));
      // Markers after everything: A hears them last per partition, so by then any duplicate of
      // what came before would have arrived too.
      const markers = await b.publishBatch("feed", [0, 1].map((partition) => ({ payload: bytes("end"), partition })));
      await waitFor("A hears B's markers", () => markers.every((m) => has(heard, m)));
      const expected = [own, ...theirs, ...markers];
      expect([...heard].sort((x, y) => key(x).localeCompare(key(y)))).toEqual([...expected].sort((x, y) => key(x).localeCompare(key(y))));

      // The last listener gone, A stops following: its consumers are deleted on the server.
      off();
      const nc = await connect({ servers: server.url });
      try {
        const jsm = await nc.jetstreamManager();
        const names = natsNames(prefix);
        const consumers = async () =>
          (await Promise.all([0, 1].map((p) => jsm.streams.info(names.stream("feed", p))))).reduce((n, si) => n + si.state.consumer_count, 0);
        await waitFor("A's followers are gone", async () => (await consumers()) === 0);
      } finally {
        await nc.close();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
