export { createNatsBroker, NatsBroker, type NatsBrokerState } from "./nats-broker.js";
export type { NatsHealth } from "./connection.js";
export {
  DEFAULT_NATS_SERVERS,
  DEFAULT_NATS_PREFIX,
  DEFAULT_NATS_TIMEOUT_MS,
  DEFAULT_NATS_MAX_MESSAGE_BYTES,
  DEFAULT_READ_AHEAD,
  DEFAULT_PUBLISH_RETRY_MS,
  DEFAULT_PUBLISH_ACK_TIMEOUT_MS,
  DEFAULT_PUBLISH_WINDOW,
  type NatsBrokerOptions,
} from "./options.js";
export { natsNames, type NatsNames } from "./names.js";
// For the cluster package: the same connection, heartbeats, leases and error codes riff's nodes share.
export { BrokerConnection, authOptions, type NatsAuth } from "./connection.js";
export { Presence, whoHolds, type Departure, type Holder, type Peer, type PresenceOptions } from "./presence.js";
export { Lease, kvAccess, type KvAccess, type LeaseTiming } from "./lease.js";
export { apiErrorCode, electionLike, JsErrorCodes, notAnswered } from "./errors.js";
export { DEFAULT_GROUP_TIMING, type GroupTiming } from "./group-coordinator.js";
export { withPatience } from "./patience.js";
export { capacityOf, clusterOf, describeCluster, type ClusterView } from "./cluster.js";
export { KvBucket, type KvBucketOptions } from "./kv-bucket.js";
