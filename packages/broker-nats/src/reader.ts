import { AckPolicy, type Consumer, type ConsumerConfig, type JetStreamClient, type JetStreamManager, type NatsConnection, nanos } from "nats";
import { electionLike } from "./errors.js";

/** @default 5 min: a reader left behind by a process that died is dropped by the server after this long idle. */
const READER_IDLE_MS = 5 * 60_000;
/** How long one try to make a reader waits, and how many tries there are. */
const CREATE_TIMEOUT_MS = 1500;
const CREATE_TRIES = 10;

/** A JetStream manager that gives up on a reader's creation quickly, to try again (see {@link openReader}). */
export function readerManager(nc: NatsConnection): Promise<JetStreamManager> {
  return nc.jetstreamManager({ timeout: CREATE_TIMEOUT_MS, checkAPI: false });
}

/**
 * An ephemeral, ack-less pull consumer on a stream, made with JetStream's plain ephemeral
 * create (no name) and then bound: riff's way to read a partition from a position.
 *
 * Not nats.js's ordered consumer (`js.consumers.get(stream, options)`): on nats-server 2.9
 * with one server of an R3 stream's peers down, making one took 6 s the first time and then
 * never came back, while a plain create answered in milliseconds (checked on a 3-node
 * cluster). Even a plain create then times out about one time in three for minutes (the
 * server places the consumer on a peer that is down), so `jsm` (from {@link readerManager})
 * gives up after 1.5 s and the create is tried again, up to 10 times. What the ordered
 * consumer adds (restart at the last sequence seen) riff's readers do themselves: they track
 * the next offset and open a new reader from there.
 */
export async function openReader(jsm: JetStreamManager, js: JetStreamClient, stream: string, config: Partial<ConsumerConfig>): Promise<Consumer> {
  const cfg = { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: nanos(READER_IDLE_MS), ...config };
  for (let tries = 1; ; tries++) {
    try {
      const info = await jsm.consumers.add(stream, cfg);
      return await js.consumers.get(stream, info.name);
    } catch (err) {
      if (tries >= CREATE_TRIES || !electionLike(err)) throw err;
    }
  }
}
