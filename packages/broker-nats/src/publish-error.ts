/** JetStream's acknowledgement of a stored message. */
export interface PublishAck {
  stream: string;
  seq: number;
  /** True when an earlier attempt with the same id was stored: `seq` is that one's. */
  duplicate: boolean;
}

/**
 * Why a publish failed. `rejected`: JetStream refused the message (too large, storage full),
 * and sending it again would not help. `closed`: the publisher stopped. The others may pass
 * later: no ack in time, no stream leader (a 503 status during an election), JetStream
 * "temporarily unavailable" (10008), or no connection.
 */
export type PublishFailureReason = "timeout" | "no-responders" | "unavailable" | "disconnected" | "rejected" | "closed";

/** A publish that failed, after `attempts` attempts, each with the message id `msgId`. */
export class PublishError extends Error {
  override readonly name = "PublishError";

  constructor(
    message: string,
    readonly reason: PublishFailureReason,
    readonly attempts: number,
    readonly msgId: string,
    /** The payload's bytes. */
    readonly size: number,
    /** JetStream's `err_code`, when JetStream answered with an error. */
    readonly apiCode?: number,
  ) {
    super(message);
  }

  /** True when the message was perhaps not stored and sending it again later may succeed. */
  get retryable(): boolean {
    return this.reason !== "rejected" && this.reason !== "closed";
  }
}
