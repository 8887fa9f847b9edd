import type { Logger } from "@riff/core";
import type { Position } from "@riff/broker";
import { type Consumer, type ConsumerMessages, DeliverPolicy, type JetStreamClient, type JetStreamManager, nanos } from "nats";
import { openReader } from "./reader.js";
import type { NatsNames } from "./names.js";
import { MSG_ID_HEADER } from "./publisher.js";

/** How long the server keeps a follower's consumer that nobody reads (its process died). */
const INACTIVE_THRESHOLD_MS = 60_000;

/** What {@link RemoteAppends} needs from its topic. */
export interface RemoteAppendsTarget {
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: NatsNames;
  topic: string;
  /** This broker's message-id prefix: messages carrying it were published here, and told already. */
  idPrefix: string;
  /** Whether a caller's message id (an Idempotency-Key's) was published here, and told already. */
  isOwn?(id: string): boolean;
  /** Called with the position of each message another instance published. */
  heard(positions: Position[]): void;
  logger: Logger;
}

/**
 * The positions of messages that other riff instances publish to a topic, for its onAppend
 * listeners (`riff topics tail -f` on one node sees what another node's gateway took in). Per
 * partition, an ordered consumer from the current end with `headers_only`: the server sends
 * each message's headers and sequence, not its payload. Messages whose `Nats-Msg-Id` starts
 * with this instance's prefix are skipped: the broker told the listeners of those itself, with
 * their positions, when their acks came. Runs only while the topic has listeners.
 */
export class RemoteAppends {
  private readonly feeds: ({ consumer: Consumer; messages?: ConsumerMessages } | undefined)[] = [];
  private watched = 0;
  private stopped = false;
  private readonly own: string;

  constructor(private readonly t: RemoteAppendsTarget) {
    this.own = `${t.idPrefix}.`;
  }

  /** Watches partitions 0..`partitions - 1` (new ones when the count was raised). */
  watch(partitions: number): void {
    for (; this.watched < partitions; this.watched++) void this.run(this.watched);
  }

  /** Stops every consumer and deletes it on the server. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const feed of this.feeds) if (feed !== undefined) this.end(feed);
  }

  private end(feed: { consumer: Consumer; messages?: ConsumerMessages }): void {
    feed.messages?.stop();
    // Stopping leaves the server's consumer for its inactivity threshold: delete it now.
    feed.consumer.delete().catch(() => undefined);
  }

  private async run(partition: number): Promise<void> {
    const { js, names, topic } = this.t;
    try {
      const consumer = await openReader(this.t.jsm, js, names.stream(topic, partition), {
        deliver_policy: DeliverPolicy.New,
        headers_only: true,
        // Left behind only if this process dies: the server drops it after a minute idle.
        inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
      });
      const feed: { consumer: Consumer; messages?: ConsumerMessages } = { consumer };
      this.feeds[partition] = feed;
      if (this.stopped) return this.end(feed);
      const messages = await consumer.consume({ max_messages: 256 });
      feed.messages = messages;
      if (this.stopped) return this.end(feed);
      for await (const m of messages) {
        if (this.stopped) break;
        const id = m.headers?.get(MSG_ID_HEADER) ?? "";
        if (id.startsWith(this.own) || this.t.isOwn?.(id) === true) continue;
        this.t.heard([{ topic, partition, offset: m.seq - 1 }]);
      }
    } catch (err) {
      if (this.stopped) return;
      this.t.logger.warn("cannot follow other nodes' publishes for onAppend listeners", { partition, error: String(err) });
    }
  }
}
