import { RiffError } from "@riff/core";

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

/** RIFF_INVALID_ARGUMENT; the message names the topic and the field at fault. */
export function invalidArgument(message: string, hint?: string): RiffError {
  return new RiffError("RIFF_INVALID_ARGUMENT", message, hint === undefined ? {} : { hint });
}

/** RIFF_MESSAGE_TOO_LARGE; `limit` says which limit, when there are several (a server's). */
export function messageTooLarge(topic: string, size: number, max: number, limit?: string): RiffError {
  return new RiffError(
    "RIFF_MESSAGE_TOO_LARGE",
    `message of ${size} bytes is larger than the ${max} allowed on topic '${topic}'${limit === undefined ? "" : ` (${limit})`}`,
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

/** True for SQLite's and the OS's ways of saying the disk is full. */
export function isDiskFull(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (code === "SQLITE_FULL" || code === "ENOSPC") return true;
  return (
    typeof code === "string" &&
    code.startsWith("SQLITE_IOERR") &&
    /disk|space/i.test(String((err as Error).message))
  );
}

/**
 * Maps a failed write: a full disk becomes RIFF_STORAGE_FULL (HTTP 507) so the gateway can answer
 * it and callers can back off; anything else is a system error.
 */
export function writeFailed(topic: string, err: unknown): RiffError {
  if (err instanceof RiffError) return err;
  if (isDiskFull(err)) {
    return new RiffError("RIFF_STORAGE_FULL", `no space left to write to topic '${topic}'`, {
      hint: "free disk space or lower the retentionBytes of the topics on this disk",
      details: { topic },
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new RiffError("RIFF_INTERNAL", `writing to topic '${topic}' failed: ${message}`, {
    cause: err,
    details: { topic },
  });
}
