import { afterAll } from "vitest";
import { describeBrokerConformance } from "@riff/broker/conformance";
import { createNatsBroker } from "./index.js";
import { startTestNatsCluster, type TestNatsCluster } from "./nats-cluster.test-util.js";
import { removePrefix, uniquePrefix } from "./test-support.test-util.js";

// The same behaviour on a 3-node JetStream cluster as on one server: topics and every bucket
// with 3 copies, a client given all three servers' URLs.
let cluster: Promise<TestNatsCluster> | undefined;
async function urls(): Promise<string[]> {
  cluster ??= startTestNatsCluster();
  return (await cluster).urls;
}
afterAll(async () => {
  await (await cluster)?.stop();
});

describeBrokerConformance("NatsBroker on a 3-node cluster", async () => {
  const prefix = uniquePrefix();
  const servers = await urls();
  const broker = createNatsBroker({ servers, prefix });
  await broker.start();
  return {
    broker,
    defaultReplicas: 3,
    async cleanup() {
      await broker.stop();
      await removePrefix(prefix, servers.join(","));
    },
  };
});
