import { randomBytes } from "node:crypto";
import { connect } from "nats";
import { describeBrokerConformance } from "@riff/broker/conformance";
import { createNatsBroker } from "./index.js";
import { natsNames } from "./names.js";

/** The shared test server; RIFF_NATS_URL points the suite at another one. */
const SERVERS = process.env.RIFF_NATS_URL ?? "nats://127.0.0.1:4222";

/** A prefix no other test, run or user of the shared server has. */
function uniquePrefix(): string {
  return `rt${randomBytes(6).toString("hex")}`;
}

/** Deletes the streams (partitions and the KV bucket) under `prefix`, and nothing else. */
async function removePrefix(prefix: string): Promise<void> {
  const nc = await connect({ servers: SERVERS });
  try {
    const jsm = await nc.jetstreamManager();
    const names = natsNames(prefix);
    const ours: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(names.streamPrefix) || name === `KV_${names.bucket}`) ours.push(name);
    }
    for (const name of ours) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

describeBrokerConformance("NatsBroker", async () => {
  const prefix = uniquePrefix();
  const broker = createNatsBroker({ servers: SERVERS, prefix });
  await broker.start();
  return {
    broker,
    async cleanup() {
      await broker.stop();
      await removePrefix(prefix);
    },
  };
});
