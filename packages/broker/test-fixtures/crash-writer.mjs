// Child process of crash-recovery.test.ts: publishes batches to topic 'crash' and consumes them
// in group 'g', until it is killed with SIGKILL. Uses the built package, as the daemon would.
// stdout protocol, one line each, written synchronously (stdout is a pipe):
//   S <end>            started; <end> is the partition's end offset on open
//   A <offset>         every message up to <offset> is acknowledged (durable)
//   P <first> <last>   the consumer handled <first>..<last>; printed BEFORE committing <last>
import { createSqliteBroker } from "@riff/broker";

const dir = process.argv[2];
const broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
await broker.start();
await broker.ensureTopic("crash");
let next = (await broker.endOffsets("crash"))[0].end;
process.stdout.write(`S ${next}\n`);

const consumer = broker.consume("crash", "g", { maxBatch: 50 });
void (async () => {
  for await (const batch of consumer) {
    const first = batch[0];
    const last = batch[batch.length - 1];
    process.stdout.write(`P ${first.offset} ${last.offset}\n`);
    await consumer.commit(last.partition, last.offset);
  }
})();

// Payloads are their own expected offsets, so the parent can check order and completeness.
for (;;) {
  const n = 1 + Math.floor(Math.random() * 40);
  const batch = Array.from({ length: n }, (_, i) => ({ payload: Buffer.from(String(next + i)) }));
  // A single publish racing the batch puts two calls in one flush, as concurrent callers do.
  const [positions, single] = await Promise.all([
    broker.publishBatch("crash", batch),
    broker.publish("crash", { payload: Buffer.from(String(next + n)) }),
  ]);
  if (positions[0].offset !== next || single.offset !== next + n) {
    process.stdout.write(`E offsets ${positions[0].offset} ${single.offset}, expected ${next}\n`);
    process.exit(1);
  }
  next += n + 1;
  process.stdout.write(`A ${single.offset}\n`);
}
