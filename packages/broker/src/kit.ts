// What another Broker implementation shares with this one (`@riff/broker/kit`), so that both
// say the same things in the same words and the conformance suite holds them alike: the
// errors, the checks of topics and arguments, the header encoding, and the group member.
export {
  invalidArgument,
  messageTooLarge,
  notRunning,
  partitionsDecrease,
  topicExists,
  topicNotFound,
} from "./broker-errors.js";
export {
  REPLICA_COUNTS,
  checkMessage,
  checkPartition,
  checkPartitions,
  checkReadArgs,
  resolveConsumeOptions,
  resolveTopicConfig,
  seekOffsets,
} from "./topic-config.js";
export { decodeHeaders, encodeHeaders, isValidHeaders } from "./encoding.js";
export { dealingOrder, GroupBook } from "./group-book.js";
export { GroupMemberConsumer, wake, type GroupMember, type MemberGroup, type WaiterSet } from "./group-consumer.js";
