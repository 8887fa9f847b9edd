export type * from "./broker.js";
export { createSqliteBroker, SqliteBroker, type SqliteBrokerState } from "./sqlite-broker.js";
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_RETENTION_CHECK_INTERVAL_MS,
  DEFAULT_TAIL_CACHE_MESSAGES,
  DEFAULT_TAIL_CACHE_BYTES,
  DEFAULT_QUICK_CHECK_MAX_BYTES,
  type SqliteBrokerOptions,
} from "./options.js";
export { MAX_PARTITIONS, DEFAULT_MAX_BATCH } from "./topic-config.js";
export { hashKey, partitionForKey } from "./encoding.js";
export type { WriteObserver } from "./write-queue.js";
