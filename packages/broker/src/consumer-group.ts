import type { Logger } from "@riff/core";
import type { GroupLag, PartitionLag, StoredMessage } from "./broker.js";
import { invalidArgument } from "./broker-errors.js";
import { GroupBook } from "./group-book.js";
import type { GroupMember } from "./group-consumer.js";
import type { SqliteTopicLog } from "./topic-log.js";

/** What a group needs from its topic: durable commits and a way to wake waiting members. */
export interface GroupHooks {
  persist(group: string, partition: number, committed: number): Promise<void>;
  wake(): void;
  logger: Logger;
}

/** The consumer groups of a topic in the SQLite broker: {@link GroupBook} over the topic's log. */
export class ConsumerGroup extends GroupBook {
  /** `committed`: next offset to read per partition, as loaded from the file. */
  constructor(
    name: string,
    private readonly log: SqliteTopicLog,
    committed: number[],
    private readonly hooks: GroupHooks,
  ) {
    super(name, committed);
    this.partitionsChanged();
  }

  /** Records that `member` handled `partition` up to and including `offset`. */
  commit(member: GroupMember, partition: number, offset: number): Promise<void> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.owner.length) {
      return Promise.reject(
        invalidArgument(
          `partition ${String(partition)} does not exist in topic '${this.log.info.name}' (it has ${this.owner.length})`,
        ),
      );
    }
    if (!Number.isInteger(offset) || offset < 0 || offset >= (this.log.end[partition] as number)) {
      return Promise.reject(
        invalidArgument(
          `cannot commit offset ${String(offset)} of partition ${partition} of topic '${this.log.info.name}': no such message`,
        ),
      );
    }
    return this.commitChecked(member, partition, offset);
  }

  /** Moves the committed offsets, and restarts delivery from there; see {@link GroupBook}. */
  seek(offsets: number[]): Promise<void>[] {
    return this.moveTo(offsets);
  }

  /** Adopts partitions added to the topic; new ones are read from their start. */
  partitionsChanged(): void {
    this.adopt(this.log.info.partitions, (p) => this.log.start[p] as number);
  }

  lag(): PartitionLag[] {
    return this.committed.map((committed, partition) => {
      const end = this.log.end[partition] as number;
      const from = Math.max(committed, this.log.start[partition] as number);
      return { partition, committed, end, lag: Math.max(0, end - from) };
    });
  }

  protected read(partition: number, from: number, max: number): StoredMessage[] {
    if (from >= (this.log.end[partition] as number)) return [];
    const messages = this.log.read(partition, from, max);
    if (messages[0] !== undefined && messages[0].offset > from) {
      this.hooks.logger.warn("retention deleted messages the group had not read", {
        group: this.name,
        partition,
        from,
        resumedAt: messages[0].offset,
      });
    }
    return messages;
  }

  protected store(partition: number, committed: number): Promise<void> {
    return this.hooks.persist(this.name, partition, committed);
  }

  protected wake(): void {
    this.hooks.wake();
  }
}

/** A group's lag in the shape of the Broker API. */
export function groupLag(g: ConsumerGroup): GroupLag {
  const partitions = g.lag();
  return { group: g.name, partitions, lag: partitions.reduce((sum, p) => sum + p.lag, 0) };
}
