import type { Durability, Headers } from "@riff/core";

/** A message to publish. */
export interface PublishMessage {
  payload: Uint8Array;
  headers?: Headers;
  /** Messages with the same key always go to the same partition. No key: round-robin. */
  key?: string;
  /** Forces a partition; overrides `key`. */
  partition?: number;
  /**
   * The caller's id for the message (at most 48 characters). Where the broker deduplicates
   * (NATS JetStream, within its duplicate window), a second publish with the same id to the
   * same partition stores nothing and gets the first one's position; elsewhere it is ignored.
   */
  id?: string;
}

/** Where a published message landed. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * A message read from a topic. Implementations may hand the same object (payload and headers
 * included) to several consumers and groups: treat it as read-only, and copy before changing.
 */
export interface StoredMessage extends Position {
  payload: Uint8Array;
  headers: Headers;
  key: string | undefined;
  /** Milliseconds since the epoch, set by the broker when the message was written. */
  timestamp: number;
  /**
   * In a group spread over processes (NATS): the claim on the partition under which this
   * message was delivered. Whoever works on the message stops when the claim is lost (another
   * process delivers it again), and does not publish or commit what it finishes after that.
   */
  lease?: MessageLease;
}

/** A process's claim on a partition, as the messages delivered under it carry it. */
export interface MessageLease {
  /** The claim's generation: the lease's revision, the fencing token. */
  readonly generation: number;
  /** Aborts when the claim is lost (expired, taken over) or given up. */
  readonly signal: AbortSignal;
  /** Whether the claim still holds now, on this process's own clock. */
  held(): boolean;
}

/** Topic settings; every field optional, defaults from @riff/core. */
export interface TopicConfig {
  /** @default 1 */
  partitions?: number;
  /** @default 7 days */
  retentionMs?: number;
  /** @default 1 GiB */
  retentionBytes?: number;
  /** @default "process" */
  durability?: Durability;
  /**
   * Copies of each message: 1 or 3. 3 needs a NATS cluster of 3 or more servers; the embedded
   * broker keeps one. @default the broker's: 3 on a NATS cluster of 3 or more servers, else 1
   */
  replicas?: number;
}

/** A topic and its resolved settings. */
export interface TopicInfo {
  name: string;
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  durability: Durability;
  /** Copies of each message the broker keeps. */
  replicas: number;
}

/** One partition's offsets: `start` is the oldest retained offset, `end` the next to be written. */
export interface PartitionOffsets {
  partition: number;
  start: number;
  end: number;
}

/** A consumer group's position on one partition. */
export interface PartitionLag {
  partition: number;
  /** Next offset the group will read. */
  committed: number;
  end: number;
  lag: number;
}

/** A group's positions on a topic. */
export interface GroupLag {
  group: string;
  partitions: PartitionLag[];
  /** Sum of the partitions' lag. */
  lag: number;
}

/** A topic whose messages a broker stores while its settings are lost (see `recoverTopic`). */
export interface UnrecordedTopic {
  name: string;
  /** The storage holding its messages (NATS streams), with how many each holds. */
  streams: { name: string; messages: number }[];
  messages: number;
}

/** Everything `riff topics describe` shows. */
export interface TopicDescription extends TopicInfo {
  offsets: PartitionOffsets[];
  sizeBytes: number;
  groups: GroupLag[];
}

/**
 * Where a group starts, or is moved to by {@link Broker.seek}. `offsets`: per partition, the
 * next offset to read, clamped to what the partition holds; a partition the list leaves out
 * goes to its earliest.
 */
export type SeekTarget = "earliest" | "latest" | { timestamp: number } | { offsets: number[] };


/** Options of {@link Broker.consume}. */
export interface ConsumeOptions {
  /** Ends the iteration and leaves the group. */
  signal?: AbortSignal;
  /** Most messages per batch. @default 256 */
  maxBatch?: number;
  /** Where a group with no committed offset starts. @default "earliest" */
  startAt?: "earliest" | "latest";
  /**
   * This member's share of the partitions, relative to the others'. In a group spread over
   * processes, 0 marks a standby: it gets partitions only while no member of weight > 0 lives.
   * @default 1
   */
  weight?: number;
}

/**
 * One member of a consumer group on one topic. Iterate it for batches of messages from the
 * partitions currently assigned to it; each batch is in offset order per partition. A partition is
 * assigned to at most one member of a group at a time; when members come and go the partitions are
 * reassigned, and a partition moves only once its old owner has committed what it was given or has
 * left, so no message is processed by two members at once.
 */
export interface GroupConsumer extends AsyncIterable<StoredMessage[]> {
  readonly topic: string;
  readonly group: string;
  /**
   * Records that every message of `partition` up to and including `offset` is handled. Commits are
   * monotonic per partition: a lower offset is ignored. Resolves once the commit is durable.
   */
  commit(partition: number, offset: number): Promise<void>;
  /** The partitions dealt to this member now, including ones it is handing over. */
  assignment(): number[];
  /**
   * The partitions of its assignment this member reads now. Where the group spans processes (a
   * broker shared by riff nodes), a partition dealt to it is read only once its process has
   * claimed it from the previous holder, which may still be finishing it; elsewhere the same as
   * {@link assignment}. What status and `riff nodes` show.
   */
  reading(): number[];
  /** Changes this member's weight (see {@link ConsumeOptions.weight}); partitions are dealt again. */
  setWeight(weight: number): void;
  /** Leaves the group; uncommitted messages are redelivered to the remaining members. */
  close(): Promise<void>;
}

/**
 * riff's log. The embedded SQLite broker implements it; a NATS JetStream one will too, and both
 * must pass the conformance suite in `conformance.ts`.
 */
export interface Broker {
  start(): Promise<void>;
  stop(): Promise<void>;

  createTopic(name: string, config?: TopicConfig): Promise<TopicInfo>;
  /** Creates the topic unless it exists; an existing one keeps its settings unless they grow. */
  ensureTopic(name: string, config?: TopicConfig): Promise<TopicInfo>;
  listTopics(): Promise<TopicInfo[]>;
  /**
   * The topic's settings, or undefined. `fresh`: look past what this instance keeps of topics
   * another instance can delete or change (a cluster's other node), for a decision that must
   * see such a delete or a raised partition count at once (creating the topic again, resizing
   * it); the gateway's lookup per message does without.
   */
  getTopic(name: string, options?: { fresh?: boolean }): Promise<TopicInfo | undefined>;
  describeTopic(name: string): Promise<TopicDescription>;
  /** Deletes the topic, its messages, its groups, and gives the disk space back. */
  deleteTopic(name: string): Promise<void>;
  /** Raises the partition count; lowering it fails with RIFF_PARTITIONS_DECREASE. */
  setPartitions(name: string, partitions: number): Promise<TopicInfo>;
  /**
   * Sets an existing topic's retention, durability and replicas; fields left out keep their
   * values. Shorter retention takes effect at the next sweep.
   */
  configureTopic(name: string, config: Omit<TopicConfig, "partitions">): Promise<TopicInfo>;
  /**
   * Records again a topic whose messages the broker still stores but whose settings it lost
   * (a NATS broker's KV bucket deleted): rebuilds them from what the storage says and keeps
   * every message. Refused with RIFF_TOPIC_NOT_FOUND when nothing is stored under `name`.
   * Only brokers that keep settings apart from messages have it (not the embedded broker,
   * whose topic file holds both). `createTopic` on such a topic fails with
   * RIFF_TOPIC_UNRECORDED, whose hint names this (`riff topics recover NAME`).
   */
  recoverTopic?(name: string): Promise<TopicInfo>;
  /** The topics stored with no settings (those `recoverTopic` takes back); with it, and only there. */
  unrecordedTopics?(): Promise<UnrecordedTopic[]>;

  /** Resolves once the message is durable per the topic's durability mode. */
  publish(topic: string, message: PublishMessage): Promise<Position>;
  publishBatch(topic: string, messages: PublishMessage[]): Promise<Position[]>;

  /** Joins `group` on `topic`. */
  consume(topic: string, group: string, options?: ConsumeOptions): GroupConsumer;
  /** Reads without a group, from a position; for `riff topics tail`. */
  read(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
  ): Promise<StoredMessage[]>;

  endOffsets(topic: string): Promise<PartitionOffsets[]>;
  /**
   * Per partition, the first offset written at or after `timestamp` (ms since the epoch), or the
   * end offset where there is none; for `riff topics tail --since`.
   */
  offsetsForTimestamp(topic: string, timestamp: number): Promise<number[]>;
  lag(topic: string, group: string): Promise<GroupLag>;
  /** Moves a group's committed offsets. */
  seek(topic: string, group: string, target: SeekTarget): Promise<void>;
  /**
   * Forgets a group and its committed offsets (a deleted function's); a group that does not
   * exist is no error. Fails with RIFF_INVALID_ARGUMENT while the group has members.
   */
  deleteGroup(topic: string, group: string): Promise<void>;
  /**
   * Calls `listener` after messages are appended to `topic` (which need not exist yet), with the
   * new positions, read-only; returns an unsubscribe function. A throwing listener is logged.
   */
  onAppend(topic: string, listener: (positions: Position[]) => void): () => void;
  /**
   * Sets the observer of the broker's write transactions (messages appended, seconds taken),
   * for its metrics; returns the function that removes it. Only brokers that write themselves
   * have it (the embedded one; NATS writes on its servers).
   */
  observeWrites?(observer: (messages: number, seconds: number) => void): () => void;
}
