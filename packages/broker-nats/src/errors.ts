import { RiffError } from "@riff/core";

// The errors every broker shares come from @riff/broker/kit, so callers (the CLI, the gateway)
// cannot tell the two brokers apart; these are NATS's own.
export { invalidArgument, messageTooLarge, notRunning, partitionsDecrease, topicExists, topicNotFound } from "@riff/broker/kit";

/** No NATS server answered at `servers`. */
export function serverUnreachable(servers: string[], cause: unknown): RiffError {
  return new RiffError(
    "RIFF_BROKER_UNAVAILABLE",
    `cannot connect to the NATS server at ${servers.join(", ")}: ${describe(cause)}`,
    {
      hint: "start one with JetStream enabled (`nats-server -js`), or start riff with --broker naming a running one, or --broker embedded",
      details: { servers },
      cause,
    },
  );
}

/** The server answered but has no JetStream. */
export function jetStreamDisabled(servers: string[], cause: unknown): RiffError {
  return new RiffError("RIFF_BROKER_UNAVAILABLE", `the NATS server at ${servers.join(", ")} has JetStream disabled`, {
    hint: "restart it with `nats-server -js` (or `jetstream {}` in its config file)",
    details: { servers },
    cause,
  });
}

/** Wraps a NATS failure of `what` into a system RiffError; RiffErrors pass through. */
export function natsFailed(what: string, err: unknown): RiffError {
  if (err instanceof RiffError) return err;
  return new RiffError("RIFF_INTERNAL", `${what} failed: ${describe(err)}`, { cause: err });
}

/** The JetStream API's error code (10059 = stream not found, ...), if `err` carries one. */
export function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: unknown } } | null)?.api_error;
  return typeof api?.err_code === "number" ? api.err_code : undefined;
}

/** JetStream API error codes riff reacts to. */
export const JsErrorCodes = {
  streamNotFound: 10059,
  streamNameInUse: 10058,
  wrongLastSequence: 10071,
} as const;

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && code !== err.message ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
