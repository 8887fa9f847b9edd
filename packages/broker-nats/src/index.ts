export { createNatsBroker, NatsBroker, type NatsBrokerState } from "./nats-broker.js";
export {
  DEFAULT_NATS_SERVERS,
  DEFAULT_NATS_PREFIX,
  DEFAULT_NATS_TIMEOUT_MS,
  DEFAULT_NATS_MAX_MESSAGE_BYTES,
  DEFAULT_READ_AHEAD,
  type NatsBrokerOptions,
} from "./options.js";
export { natsNames, type NatsNames } from "./names.js";
