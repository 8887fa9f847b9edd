import { describe, expect, it } from "vitest";
import type { StoredMessage } from "@riff/broker";
import { describeDelivery } from "./delivery.js";

const message = (hops: string[] | undefined): StoredMessage => ({
  topic: "numbers",
  partition: 0,
  offset: 7,
  payload: new Uint8Array(),
  headers: hops === undefined ? {} : { "x-riff-hops": hops },
  key: undefined,
  timestamp: 0,
});

// The gateway refuses a forged count; a message that reached the broker another way (an older
// riff, a direct NATS publish) must still never buy itself more hops than the limit.
describe("a delivery's hop count", () => {
  const hopsOf = (hops: string[] | undefined) => describeDelivery(message(hops), { ordered: true, replyFromEnd: false });

  it("is one more than the message carried", () => {
    expect(hopsOf(undefined).hops).toBe(1);
    expect(hopsOf(["4"]).hops).toBe(5);
    expect(hopsOf(["4"]).carried["x-riff-hops"]).toEqual(["5"]);
  });

  it("counts a negative or garbled count as 0, never less", () => {
    for (const forged of [["-10"], ["-1e9"], ["abc"], [""], ["-Infinity"], ["0.5"]]) {
      expect(hopsOf(forged).hops, forged[0]).toBe(1);
    }
  });
});
