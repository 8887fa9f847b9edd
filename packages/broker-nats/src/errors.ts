import { RiffError } from "@riff/core";

// The codes, messages and hints match the SQLite broker's, so that callers (the CLI, the
// gateway) cannot tell the two apart. @riff/broker does not export its helpers; see docs.

/** RIFF_TOPIC_NOT_FOUND naming the topic and the command that creates it. */
export function topicNotFound(topic: string): RiffError {
  return new RiffError("RIFF_TOPIC_NOT_FOUND", `topic '${topic}' does not exist`, {
    hint: `create it with: riff topics create ${topic}`,
    details: { topic },
  });
}

/** RIFF_TOPIC_EXISTS for createTopic on an existing name. */
export function topicExists(topic: string): RiffError {
  return new RiffError("RIFF_TOPIC_EXISTS", `topic '${topic}' already exists`, {
    hint: `inspect it with: riff topics describe ${topic}`,
    details: { topic },
  });
}

/** RIFF_PARTITIONS_DECREASE: keys are hashed over the count, so it may only grow. */
export function partitionsDecrease(topic: string, current: number, requested: number): RiffError {
  return new RiffError(
    "RIFF_PARTITIONS_DECREASE",
    `topic '${topic}' has ${current} partitions; they cannot be lowered to ${requested}`,
    {
      hint: "keys map to partitions by hash, so lowering would reorder them; create a new topic instead",
      details: { topic, current, requested },
    },
  );
}

/** RIFF_INVALID_ARGUMENT. */
export function invalidArgument(message: string, hint?: string): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", message, hint === undefined ? {} : { hint });
}

/** RIFF_MESSAGE_TOO_LARGE, saying which limit was hit. */
export function messageTooLarge(topic: string, size: number, max: number, limit: string): RiffError {
  return new RiffError(
    "RIFF_MESSAGE_TOO_LARGE",
    `message of ${size} bytes is larger than the ${max} allowed on topic '${topic}' (${limit})`,
    {
      hint: "send a smaller payload, or store the data elsewhere and publish a reference to it",
      details: { topic, size, max },
    },
  );
}

/** The error every call gets once the broker is not running. */
export function notRunning(state: string): RiffError {
  if (state === "created" || state === "starting") {
    return new RiffError("RIFF_INTERNAL", "the broker is not started yet", {
      hint: "await broker.start() before using it",
    });
  }
  return new RiffError("RIFF_SHUTTING_DOWN", "the broker is stopped", {
    hint: "the daemon is shutting down; retry against the next instance",
  });
}

/** No NATS server answered at `servers`. */
export function serverUnreachable(servers: string[], cause: unknown): RiffError {
  return new RiffError(
    "RIFF_INTERNAL",
    `cannot connect to the NATS server at ${servers.join(", ")}: ${describe(cause)}`,
    {
      hint: "start one with JetStream enabled, e.g. `nats-server -js`, or point the broker's servers option at a running one",
      details: { servers },
      cause,
    },
  );
}

/** The server answered but has no JetStream. */
export function jetStreamDisabled(servers: string[], cause: unknown): RiffError {
  return new RiffError("RIFF_INTERNAL", `the NATS server at ${servers.join(", ")} has JetStream disabled`, {
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
