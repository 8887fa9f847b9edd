import type { StoredMessage } from "@riff/broker";
import { describe, expect, it } from "vitest";
import { PartitionDispatcher } from "./partition-dispatcher.js";
import type { Replica } from "./replica.js";

const msg = (offset: number, key?: string): StoredMessage => ({ topic: "t", partition: 0, offset, key, timestamp: 0, headers: {}, payload: new Uint8Array() });

/** A dispatcher with one replica that holds at most one message, and what it was sent. */
function oneAtATime(ordered = true) {
  const sent: number[] = [];
  const replica = { id: "r1", inFlight: 0 } as unknown as Replica & { inFlight: number };
  const d = new PartitionDispatcher({
    ordered,
    concurrency: () => 1,
    send: (_r, m) => {
      sent.push(m.offset);
      replica.inFlight++;
    },
  });
  const finish = () => {
    replica.inFlight--;
    d.finished("t/0");
    d.pump([replica]);
  };
  return { d, sent, replica, finish };
}

describe("PartitionDispatcher parking", () => {
  it("holds a parked message's later messages of its key, lets other keys and keyless ones pass, and runs it first when it comes back", () => {
    const { d, sent, replica, finish } = oneAtATime();
    const a1 = msg(0, "A");
    d.enqueue([a1, msg(1, "A"), msg(2, "B"), msg(3), msg(4, "A")]);
    d.pump([replica]);
    expect(sent).toEqual([0]);
    // a1 failed: it waits out its backoff, parked.
    d.park(a1);
    finish();
    expect(sent).toEqual([0, 2]);
    finish();
    expect(sent).toEqual([0, 2, 3]);
    finish();
    // Only A's messages are left, held behind a1.
    expect(sent).toEqual([0, 2, 3]);
    expect(d.queued).toBe(2);
    // The backoff is over: a1 runs before its key's later messages...
    d.requeue(a1);
    d.pump([replica]);
    expect(sent).toEqual([0, 2, 3, 0]);
    // ...which wait until it is settled, not merely dispatched: it may fail again.
    finish();
    expect(sent).toEqual([0, 2, 3, 0]);
    d.unpark(a1);
    d.pump([replica]);
    expect(sent).toEqual([0, 2, 3, 0, 1]);
    finish();
    expect(sent).toEqual([0, 2, 3, 0, 1, 4]);
  });

  it("parks nothing with `ordering: none`, and forgets what it parked when cleared", () => {
    const none = oneAtATime(false);
    none.d.enqueue([msg(0, "A"), msg(1, "A")]);
    none.d.pump([none.replica]);
    none.d.park(msg(0, "A"));
    none.finish();
    expect(none.sent).toEqual([0, 1]);

    const { d, sent, replica, finish } = oneAtATime();
    d.enqueue([msg(0, "A")]);
    d.pump([replica]);
    d.park(msg(0, "A"));
    finish();
    d.clear();
    d.enqueue([msg(1, "A")]);
    d.pump([replica]);
    expect(sent).toEqual([0, 1]);
  });
});

describe("PartitionDispatcher assignments", () => {
  it("shows each held partition on the replica its next message goes to, and one in flight on its owner", () => {
    const r1 = { id: "r1", inFlight: 0 } as unknown as Replica;
    const r2 = { id: "r2", inFlight: 0 } as unknown as Replica;
    const sentTo: string[] = [];
    const d = new PartitionDispatcher({ ordered: true, concurrency: () => 8, send: (r) => sentTo.push(r.id) });
    // Idle: nothing in flight, yet each replica holds its share of what this runner reads.
    expect(Object.fromEntries(d.assignments([r1, r2], ["t/0", "t/1", "t/2"]))).toEqual({ r1: ["t/0", "t/2"], r2: ["t/1"] });
    // The spread shown is the one used: t/1's message goes to r2.
    d.enqueue([{ ...msg(0), partition: 1 }]);
    d.pump([r1, r2]);
    expect(sentTo).toEqual(["r2"]);
    // With r2 gone, t/1 stays on r2 while its message is in flight there; the rest moves to r1.
    expect(Object.fromEntries(d.assignments([r1], ["t/0", "t/1", "t/2"]))).toEqual({ r1: ["t/0", "t/2"], r2: ["t/1"] });
    d.finished("t/1");
    expect(Object.fromEntries(d.assignments([r1], ["t/0", "t/1", "t/2"]))).toEqual({ r1: ["t/0", "t/1", "t/2"] });
  });
});
