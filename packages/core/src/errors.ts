/**
 * The one error type of riff. Every failure a user can see carries a stable `code` from
 * {@link ErrorCodes}, so scripts and docs can rely on it, and a `kind` that tells the CLI whether
 * to print a hint (user error) or a stack and "this is a bug" (system error).
 */

/** Whether the user can fix the failure (bad input, missing thing) or riff itself failed. */
export type ErrorKind = "user" | "system";

/**
 * Every code riff emits, with its kind and the HTTP status the APIs answer with.
 * Kept in one registry so that docs/errors.md and the code cannot drift (see errors.test.ts).
 */
export const ErrorCodes = {
  RIFF_INVALID_RESOURCE: { kind: "user", status: 400 },
  RIFF_INVALID_ARGUMENT: { kind: "user", status: 400 },
  RIFF_INVALID_NAME: { kind: "user", status: 400 },
  RIFF_INVALID_HEADER: { kind: "user", status: 400 },
  RIFF_INVALID_CLOUDEVENT: { kind: "user", status: 400 },
  RIFF_DUPLICATE_RESOURCE: { kind: "user", status: 400 },
  RIFF_BAD_REQUEST: { kind: "user", status: 400 },
  RIFF_HEADERS_TOO_LARGE: { kind: "user", status: 431 },
  RIFF_REQUEST_TIMEOUT: { kind: "user", status: 408 },
  RIFF_HOST_NOT_ALLOWED: { kind: "user", status: 403 },
  RIFF_TOKEN_UNSAFE: { kind: "user", status: 403 },
  RIFF_TOPOLOGY_LOOP: { kind: "user", status: 400 },
  RIFF_HOP_LIMIT: { kind: "user", status: 508 },
  RIFF_TOPIC_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_TOPIC_EXISTS: { kind: "user", status: 409 },
  RIFF_TOPIC_IN_USE: { kind: "user", status: 409 },
  RIFF_TOPIC_PROTECTED: { kind: "user", status: 409 },
  RIFF_TOPIC_UNRECORDED: { kind: "user", status: 409 },
  RIFF_NO_READER: { kind: "user", status: 409 },
  RIFF_CONFLICT: { kind: "user", status: 409 },
  RIFF_PARTITIONS_DECREASE: { kind: "user", status: 400 },
  RIFF_FUNCTION_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_FUNCTION_EXISTS: { kind: "user", status: 409 },
  RIFF_REVISION_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_ARTIFACT_NOT_FOUND: { kind: "user", status: 400 },
  RIFF_ARTIFACT_INVALID: { kind: "user", status: 400 },
  RIFF_ARTIFACT_TOO_LARGE: { kind: "user", status: 413 },
  RIFF_INVOKER_NOT_FOUND: { kind: "user", status: 400 },
  RIFF_MESSAGE_TOO_LARGE: { kind: "user", status: 413 },
  RIFF_METHOD_NOT_ALLOWED: { kind: "user", status: 405 },
  RIFF_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_UNAUTHORIZED: { kind: "user", status: 401 },
  RIFF_CROSS_ORIGIN: { kind: "user", status: 403 },
  RIFF_CONTENT_TYPE_UNSUPPORTED: { kind: "user", status: 415 },
  RIFF_ACCEPT_UNSUPPORTED: { kind: "user", status: 406 },
  RIFF_REPLY_TIMEOUT: { kind: "user", status: 504 },
  RIFF_FUNCTION_ERROR: { kind: "user", status: 500 },
  RIFF_FUNCTION_TIMEOUT: { kind: "user", status: 504 },
  RIFF_REPLICA_LOST: { kind: "user", status: 502 },
  RIFF_FUNCTION_STARTUP_FAILED: { kind: "user", status: 502 },
  RIFF_OUT_OF_MEMORY: { kind: "user", status: 502 },
  RIFF_PROCESS_LIMIT: { kind: "user", status: 502 },
  RIFF_SANDBOX_UNAVAILABLE: { kind: "user", status: 503 },
  RIFF_LIMITS_UNAVAILABLE: { kind: "user", status: 503 },
  RIFF_SECRET_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_RECORD_NOT_FOUND: { kind: "user", status: 404 },
  RIFF_RECORDS_OFF: { kind: "user", status: 404 },
  RIFF_IDEMPOTENCY_CONFLICT: { kind: "user", status: 422 },
  RIFF_FORBIDDEN: { kind: "user", status: 403 },
  RIFF_RATE_LIMITED: { kind: "user", status: 429 },
  RIFF_DAEMON_NOT_RUNNING: { kind: "user", status: 503 },
  RIFF_DAEMON_UNREACHABLE: { kind: "user", status: 503 },
  RIFF_BROKER_UNAVAILABLE: { kind: "user", status: 503 },
  RIFF_KUBERNETES_UNAVAILABLE: { kind: "user", status: 503 },
  RIFF_DAEMON_ALREADY_RUNNING: { kind: "user", status: 409 },
  RIFF_PORT_IN_USE: { kind: "user", status: 409 },
  RIFF_NODE_NAME_TAKEN: { kind: "user", status: 409 },
  RIFF_CLUSTER_SETTING_CONFLICT: { kind: "user", status: 409 },
  RIFF_STORAGE_FULL: { kind: "system", status: 507 },
  RIFF_STARTING: { kind: "system", status: 503 },
  RIFF_SHUTTING_DOWN: { kind: "system", status: 503 },
  RIFF_PROTOCOL_ERROR: { kind: "system", status: 502 },
  RIFF_INTERNAL: { kind: "system", status: 500 },
} as const satisfies Record<string, { kind: ErrorKind; status: number }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ErrorCodes;

/** Extra context for a {@link RiffError}. */
export interface RiffErrorOptions extends ErrorOptions {
  /** One line telling the user how to fix it. Printed by the CLI under the message. */
  hint?: string;
  /** Structured details (file, field path, line) for machine-readable output. */
  details?: Record<string, unknown>;
}

/** The JSON shape of an error on every riff API: `{error: {code, message, hint?, details?}}`. */
export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  stack?: string;
}

/** The error riff throws. See {@link ErrorCodes} for the codes. */
export class RiffError extends Error {
  override readonly name = "RiffError";
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: RiffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** `user` when the caller can fix it, `system` when riff failed. */
  get kind(): ErrorKind {
    return ErrorCodes[this.code].kind;
  }

  /** The HTTP status the APIs answer with for this code. */
  get status(): number {
    return ErrorCodes[this.code].status;
  }

  /**
   * The wire form, for API answers. With `stack`, system errors carry riff's stack so bugs can
   * be reported: only for the authenticated admin API, since it shows riff's file paths.
   */
  toJSON(options: { stack?: boolean } = {}): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.hint !== undefined) body.hint = this.hint;
    if (this.details !== undefined) body.details = this.details;
    if (options.stack === true && this.kind === "system" && this.stack !== undefined) body.stack = this.stack;
    return body;
  }
}

/** True when `code` is one of riff's codes. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ErrorCodes, code);
}

/** Wraps anything thrown into a RiffError; unknown failures become system errors. */
export function toRiffError(err: unknown): RiffError {
  if (err instanceof RiffError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new RiffError("RIFF_INTERNAL", message, { cause: err });
}

/** Rebuilds a RiffError from an API error body (the CLI uses it on non-2xx answers). */
export function fromErrorBody(body: ErrorBody): RiffError {
  const code = isErrorCode(body.code) ? body.code : "RIFF_INTERNAL";
  const options: RiffErrorOptions = {};
  if (body.hint !== undefined) options.hint = body.hint;
  if (body.details !== undefined) options.details = body.details;
  const err = new RiffError(code, body.message, options);
  if (body.stack !== undefined) err.stack = body.stack;
  return err;
}
