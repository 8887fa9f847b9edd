import { RiffError } from "@riff/core";
import type { NatsHealth } from "./connection.js";
import type { PublishError } from "./publish-error.js";

// The errors every broker shares come from @riff/broker/kit, so callers (the CLI, the gateway)
// cannot tell the two brokers apart; these are NATS's own.
export { invalidArgument, messageTooLarge, notRunning, partitionsDecrease, topicExists, topicNotFound } from "@riff/broker/kit";
import { invalidArgument, notRunning } from "@riff/broker/kit";

/** No NATS server answered at `servers`. */
export function serverUnreachable(servers: string[], cause: unknown): RiffError {
  return new RiffError(
    "RIFF_BROKER_UNAVAILABLE",
    `cannot connect to the NATS server at ${servers.join(", ")}: ${describe(cause)}`,
    {
      hint: "check that a NATS server with JetStream (`nats-server -js`) listens there and that the URL is right (--broker nats://HOST:PORT, or --cluster with each server's URL); riff on one machine needs none: --broker embedded",
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

/**
 * The connection is down: said at once instead of after a timeout, with since when, and that
 * nothing is to be done in riff (it reconnects for ever).
 */
export function brokerUnavailable(servers: string[], health: NatsHealth): RiffError {
  const seconds = Math.max(0, Math.round((Date.now() - health.since) / 1000));
  const why = health.lastError === undefined ? "" : ` (${health.lastError})`;
  return new RiffError(
    "RIFF_BROKER_UNAVAILABLE",
    `NATS is unreachable since ${new Date(health.since).toISOString()}, ${seconds} s ago${why}; riff reconnects by itself`,
    {
      hint: `retry in a few seconds; if it lasts, check the NATS server(s) at ${servers.join(", ")}`,
      details: { servers, since: health.since },
    },
  );
}

/** A stream of a topic that holds messages, as {@link topicUnrecorded} reports it. */
export interface HeldStream {
  name: string;
  messages: number;
}

/**
 * RIFF_TOPIC_UNRECORDED: the topic's streams hold messages but riff has no record of the topic
 * (its KV bucket was deleted or lost). riff never drops such streams by itself: the user says
 * whether to keep them (recover) or not (delete).
 */
export function topicUnrecorded(topic: string, held: HeldStream[]): RiffError {
  const total = held.reduce((sum, s) => sum + s.messages, 0);
  const where =
    held.length === 1
      ? `its stream ${held[0]?.name ?? ""} holds ${total} messages`
      : `its streams hold ${total} messages (${held.map((s) => `${s.name}: ${s.messages}`).join(", ")})`;
  return new RiffError("RIFF_TOPIC_UNRECORDED", `topic '${topic}' has no record in riff, but ${where}`, {
    hint: `keep them with: riff topics recover ${topic}   or delete them with: riff topics delete ${topic}`,
    details: { topic, streams: held, messages: total },
  });
}

/**
 * A topic asks for more copies than the NATS servers can keep: `capacity` is what they can
 * (3 on a cluster of 3 or more, else 1), `cluster` says what riff found.
 */
export function replicasUnavailable(topic: string, replicas: number, capacity: number, cluster: string): RiffError {
  return invalidArgument(
    `topic '${topic}': replicas ${replicas} needs a NATS cluster of at least ${replicas} servers; ${cluster}`,
    `leave replicas out (the default here is ${capacity}) or set replicas: ${capacity}, or run riff on a NATS cluster of 3 or more servers`,
  );
}

/**
 * JetStream found too few servers for copies the cluster normally keeps (`no suitable peers`
 * while the cluster's own records have that many): servers are down, which is an outage to wait
 * out, not a setting to lower (a topic made with fewer copies now would keep fewer for good).
 */
export function replicasUnplaceable(topic: string, replicas: number, cluster: string): RiffError {
  return new RiffError(
    "RIFF_BROKER_UNAVAILABLE",
    `topic '${topic}': NATS cannot place ${replicas} copies now; ${cluster}, fewer than the ${replicas} this cluster keeps of each topic: a NATS server is down or cut off`,
    {
      hint: "bring the NATS server back (or wait for it), then try again; topics made before keep working meanwhile",
      details: { topic, replicas },
    },
  );
}

/**
 * A publish that failed, as riff says it: too large (413) and out of space (507) as the SQLite
 * broker says them; a failure that may pass (no ack, no stream leader) as 503, saying that the
 * message may or may not be stored, since its ack never came.
 */
export function publishFailed(topic: string, err: PublishError): RiffError {
  switch (err.reason) {
    case "closed":
      return notRunning("stopped");
    case "rejected":
      if (err.apiCode === JsErrorCodes.messageTooLarge) {
        return new RiffError("RIFF_MESSAGE_TOO_LARGE", `message of ${err.size} bytes is larger than JetStream allows on topic '${topic}' (${err.message})`, {
          hint: "send a smaller payload, or store the data elsewhere and publish a reference to it",
          details: { topic, size: err.size },
        });
      }
      if (err.apiCode === JsErrorCodes.storeFailed || err.apiCode === JsErrorCodes.insufficientResources) {
        return new RiffError("RIFF_STORAGE_FULL", `no space left to write to topic '${topic}': ${err.message}`, {
          hint: "free disk space on the NATS servers (or raise their max_file_store), or lower the retentionBytes of the topics",
          details: { topic, apiCode: err.apiCode },
          cause: err,
        });
      }
      return new RiffError("RIFF_INTERNAL", `publishing to topic '${topic}' failed: ${err.message}`, { cause: err });
    default:
      return new RiffError(
        "RIFF_BROKER_UNAVAILABLE",
        `publishing to topic '${topic}' failed after ${err.attempts} attempt(s): ${err.message}`,
        {
          hint: "NATS JetStream did not confirm the message, which may or may not be stored; publish it again (riff delivers at least once)",
          details: { topic, reason: err.reason },
          cause: err,
        },
      );
  }
}

/** Wraps a NATS failure of `what` into a RiffError (a passing one when JetStream did not answer); RiffErrors pass through. */
export function natsFailed(what: string, err: unknown): RiffError {
  if (err instanceof RiffError) return err;
  if (electionLike(err)) return notAnswered(what, err);
  return new RiffError("RIFF_INTERNAL", `${what} failed: ${describe(err)}`, { cause: err });
}

/**
 * Whether a JetStream call failed in a way an election explains: no answer in time, no
 * responders (the meta or a stream leader is being elected), or "temporarily unavailable".
 */
export function electionLike(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "TIMEOUT" || code === "503" || apiErrorCode(err) === JsErrorCodes.temporarilyUnavailable;
}

/**
 * RIFF_BROKER_UNAVAILABLE (503) for a call JetStream did not answer: after a NATS server is
 * lost, its streams' new leaders take seconds to be elected. Not riff's failure, and it passes.
 */
export function notAnswered(what: string, err: unknown): RiffError {
  return new RiffError("RIFF_BROKER_UNAVAILABLE", `JetStream did not answer ${what} (${describe(err)}): a NATS server may be down and its streams' leaders being elected`, {
    hint: "retry in a few seconds; if it lasts, check the NATS servers (riff system status, riff nodes)",
    cause: err,
  });
}

/** The JetStream API's error code (10059 = stream not found, ...), if `err` carries one. */
export function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: unknown } } | null)?.api_error;
  return typeof api?.err_code === "number" ? api.err_code : undefined;
}

/** JetStream API error codes riff reacts to. */
export const JsErrorCodes = {
  /** "JetStream system temporarily unavailable": a publish that may pass when retried. */
  temporarilyUnavailable: 10008,
  /** "no suitable peers for placement": fewer servers than replicas asked for. */
  noSuitablePeers: 10005,
  /** "insufficient resources": the servers' JetStream storage is full. */
  insufficientResources: 10047,
  messageTooLarge: 10054,
  streamNameInUse: 10058,
  streamNotFound: 10059,
  wrongLastSequence: 10071,
  /** "replicas > 1 not supported in non-clustered mode". */
  replicasNotClustered: 10074,
  /** A store failure, e.g. "maximum bytes exceeded" with `discard: new`. */
  storeFailed: 10077,
} as const;

function describe(err: unknown): string {
  // nats.js says only "tls" for it.
  if ((err as { code?: unknown } | undefined)?.code === "SERVER_OPT_NA") {
    return "TLS was asked for (a tls:// URL or --nats-tls-*) but the server does not offer it; use nats:// for a server without TLS";
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" && code !== err.message ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
