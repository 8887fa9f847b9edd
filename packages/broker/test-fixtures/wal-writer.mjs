// Child process of wal-scan.test.ts: publishes <count> messages to topic 'torn', one publish at a
// time so that each is a commit of its own, then says "D" and idles until killed with SIGKILL.
// Nothing writes after "D", so the WAL it leaves ends exactly at the last message's commit frame.
// stdout: "A <offset>" per acknowledged message, then "D". Uses the built package.
import { createSqliteBroker } from "@riff/broker";

const [dir, count] = process.argv.slice(2);
const broker = createSqliteBroker({ dir, retentionCheckIntervalMs: 0 });
await broker.start();
await broker.ensureTopic("torn");
for (let i = 0; i < Number(count); i++) {
  const { offset } = await broker.publish("torn", { payload: Buffer.from(String(i)) });
  process.stdout.write(`A ${offset}\n`);
}
process.stdout.write("D\n");
// Keeps the process (and its open files) alive until the parent kills it.
setInterval(() => {}, 1 << 30);
