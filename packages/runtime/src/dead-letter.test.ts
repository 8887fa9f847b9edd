import { DeadLetterHeaders as H, isDeadLetterHeader } from "@riff/core";
import type { StoredMessage } from "@riff/broker";
import { describe, expect, it } from "vitest";
import { deadLetterOf, stackTail } from "./dead-letter.js";

const message: StoredMessage = {
  topic: "orders",
  partition: 2,
  offset: 41,
  key: "customer-9",
  timestamp: 0,
  headers: { "content-type": ["application/json"], "x-trace": ["abc"] },
  payload: new TextEncoder().encode('{"id":1}'),
};

describe("deadLetterOf", () => {
  it("keeps the payload, headers and key, and adds every dead-letter header", () => {
    const letter = deadLetterOf(message, "billing", {
      code: "RIFF_FUNCTION_ERROR",
      reason: "failed in the function: RIFF_FUNCTION_ERROR: no card",
      errorName: "TypeError",
      stack: "TypeError: no card\n    at charge (billing.js:3:9)",
      attempts: 3,
      firstFailureAt: Date.UTC(2026, 0, 1, 0, 0, 0),
      lastFailureAt: Date.UTC(2026, 0, 1, 0, 0, 2),
    });
    expect(letter.payload).toBe(message.payload);
    expect(letter.key).toBe("customer-9");
    expect(letter.headers).toEqual({
      "content-type": ["application/json"],
      "x-trace": ["abc"],
      [H.reason]: ["failed in the function: RIFF_FUNCTION_ERROR: no card"],
      [H.function]: ["billing"],
      [H.source]: ["orders/2@41"],
      [H.code]: ["RIFF_FUNCTION_ERROR"],
      // The same code as a CloudEvents extension, for consumers that read only ce-* attributes.
      [H.cloudEventCode]: ["RIFF_FUNCTION_ERROR"],
      [H.errorName]: ["TypeError"],
      [H.stack]: ["TypeError: no card\n    at charge (billing.js:3:9)"],
      [H.attempts]: ["3"],
      [H.topic]: ["orders"],
      [H.partition]: ["2"],
      [H.offset]: ["41"],
      [H.firstFailure]: ["2026-01-01T00:00:00.000Z"],
      [H.lastFailure]: ["2026-01-01T00:00:02.000Z"],
    });
    // A redrive takes off all that riff added, the CloudEvents extension too.
    expect(Object.keys(letter.headers ?? {}).filter((name) => !isDeadLetterHeader(name))).toEqual(["content-type", "x-trace"]);
  });

  it("keeps a long reason and stack small, so the letter fits its topic", () => {
    const letter = deadLetterOf({ ...message, key: undefined }, "f", { code: "RIFF_FUNCTION_ERROR", reason: "r".repeat(10_000), stack: "s".repeat(10_000), attempts: 1, firstFailureAt: 0, lastFailureAt: 0 });
    expect(letter.key).toBeUndefined();
    expect(letter.headers?.[H.reason]?.[0]?.length).toBeLessThanOrEqual(2049);
    expect(letter.headers?.[H.stack]?.[0]?.length).toBeLessThanOrEqual(4097);
  });
});

describe("stackTail", () => {
  it("keeps the last lines of a long stack", () => {
    const stack = Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n");
    const tail = stackTail(stack).split("\n");
    expect(tail[0]).toBe("…");
    expect(tail.at(-1)).toBe("line 49");
    expect(tail).toHaveLength(21);
  });
});
