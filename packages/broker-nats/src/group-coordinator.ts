import { RiffError, type Logger } from "@riff/core";
import type { NatsConnection, Subscription } from "nats";
import type { NatsConsumerGroup } from "./consumer-group.js";
import type { KvBucket } from "./kv-bucket.js";
import { Lease } from "./lease.js";
import { OffsetCommits } from "./offset-commits.js";
import { offsetKey, type OffsetStore } from "./offset-store.js";
import { Presence } from "./presence.js";
import { dealPartitions } from "./share.js";

/** Timing of partition leases and group membership; see docs/cluster.md for why these values. */
export interface GroupTiming {
  /** An unrenewed partition lease expires this long after its last renewal. @default 4000 */
  leaseTtlMs: number;
  /** A holder stops delivering this long before its lease can expire. @default 1000 */
  marginMs: number;
  /** How often leases are renewed. @default 1000 */
  renewMs: number;
  /** How often wanted partitions are tried and unwanted ones given up. @default 250 */
  claimMs: number;
  /** Heartbeats of group membership. @default 500 */
  heartbeatMs: number;
  /** An instance not heard from for this long leaves every group. @default 2500 */
  memberTimeoutMs: number;
}

export const DEFAULT_GROUP_TIMING: GroupTiming = {
  leaseTtlMs: 4000,
  marginMs: 1000,
  renewMs: 1000,
  claimMs: 250,
  heartbeatMs: 500,
  memberTimeoutMs: 2500,
};

/** What an instance tells the others: its weight in each group it has members in. */
interface Membership {
  groups: Record<string, number>;
}

/** What a {@link GroupCoordinator} needs. */
export interface CoordinatorOptions {
  nc: NatsConnection;
  leases: KvBucket;
  offsets: OffsetStore;
  /** Subject root of the membership heartbeats. */
  subject: string;
  /** This broker instance's id, unique among the instances (riff nodes) sharing the prefix. */
  instance: string;
  /** Whether NATS is reachable now: while it is not, no claim or release is tried (each would fail). */
  isConnected: () => boolean;
  timing: GroupTiming;
  logger: Logger;
}

const SEP = "\u0000";
/** How often a topic with members here is read again, for partitions raised elsewhere. */
const TOPIC_REFRESH_MS = 5000;
/**
 * While a partition here waits to be handed over (no longer in the share, not yet settled),
 * claim rounds run this often instead of every claimMs: it is released as soon as what it
 * delivered is committed, not up to a round later. Local work only; the KV is not asked.
 */
const HANDOVER_ROUND_MS = 10;

/**
 * Consumer groups across riff instances (nats.md §2). Each instance says, by heartbeat, in which
 * groups it has members and with what weight; every instance deals each group's partitions
 * over the live instances the same way ({@link dealPartitions}) and tries to claim its share.
 * A claim is a lease per (topic, group, partition) in a KV bucket with a ttl, renewed every
 * second; the lease's revision is the generation that fences the offset record. A partition
 * leaves the share (another instance came) only once what was delivered of it is committed;
 * then its lease is given up and the next instance claims it within a claim round.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, NatsConsumerGroup>();
  /** Groups whose members all left here, with claims still to give up. */
  private readonly retired = new Set<NatsConsumerGroup>();
  private readonly presence: Presence<Membership>;
  private readonly claiming = new Set<string>();
  private timers: NodeJS.Timeout[] = [];
  /** A claim round asked for sooner than the next periodic one (a deal changed, a lease was released). */
  private soon: NodeJS.Timeout | undefined;
  private released: Subscription | undefined;
  private stopped = false;

  constructor(private readonly o: CoordinatorOptions) {
    this.presence = new Presence<Membership>({
      nc: o.nc,
      subject: o.subject,
      id: o.instance,
      intervalMs: o.timing.heartbeatMs,
      timeoutMs: o.timing.memberTimeoutMs,
      state: () => this.membership(),
      onChange: () => this.deal(),
      logger: o.logger,
    });
  }

  start(): void {
    this.presence.start();
    // Another instance gave a lease up: claim now what is wanted here, not at the next round.
    this.released = this.o.nc.subscribe(this.releasedSubject(), { callback: () => this.roundSoon(0) });
    this.timers = [
      setInterval(() => this.claimRound(), this.o.timing.claimMs),
      setInterval(() => void this.renewRound(), this.o.timing.renewMs),
      // Partitions raised through another instance: its groups here see them within this.
      setInterval(() => void this.refreshRound(), TOPIC_REFRESH_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /** Gives every claim up (a clean stop hands the partitions over at once) and leaves. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.soon);
    this.released?.unsubscribe();
    const releases: Promise<void>[] = [];
    for (const g of this.groups.values()) {
      for (const [p, claim] of g.claimed()) {
        releases.push(claim.lease.release().catch(() => undefined));
        g.drop(p, "stopped");
      }
    }
    await Promise.all(releases);
    if (releases.length > 0) this.tellReleased();
    this.presence.stop();
  }

  /** A group with members here, or one whose membership changed (joins, leaves, weights). */
  changed(group: NatsConsumerGroup): void {
    const key = `${group.topicName}${SEP}${group.name}`;
    if (group.weight() === undefined) {
      this.groups.delete(key);
      // Its claims are given up in the claim rounds, once what they delivered is committed.
      this.retired.add(group);
    } else {
      this.groups.set(key, group);
      this.retired.delete(group);
    }
    this.presence.announce();
    this.deal();
    // A group that lost its last member here hands its partitions over now, not at the next round.
    if (group.weight() === undefined) this.claimRound();
  }

  /** Whether any live instance (this one included) has members in `group` of `topic`. */
  hasMembers(topic: string, group: string): boolean {
    const key = `${topic}${SEP}${group}`;
    return this.presence.live().some((p) => p.state.groups[key] !== undefined);
  }

  private membership(): Membership {
    const groups: Record<string, number> = {};
    for (const [key, g] of this.groups) groups[key] = g.weight() ?? 0;
    return { groups };
  }

  /** Recomputes every local group's share from the live membership. */
  private deal(): void {
    const live = this.presence.live();
    for (const [key, g] of this.groups) {
      const instances = live.flatMap((p) => (p.state.groups[key] === undefined ? [] : [{ id: p.id, weight: p.state.groups[key] as number }]));
      g.setShare(dealPartitions(g.partitions(), instances).get(this.o.instance) ?? []);
    }
    for (const g of this.retired) g.setShare([]);
    // What is handed over is committed at once, so that its next holder is not kept waiting.
    for (const g of [...this.groups.values(), ...this.retired]) {
      for (const [p, claim] of g.claimed()) claim.commits.hurry(!g.wants(p));
    }
    // A new share is claimed (or handed over) now rather than at the next round.
    this.roundSoon(0);
  }

  /** Runs a claim round after `ms`, unless one is due sooner already. */
  private roundSoon(ms: number): void {
    if (this.stopped || this.soon !== undefined) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.claimRound();
    }, ms);
    this.soon.unref();
  }

  /** Where an instance says it gave a lease up, outside the heartbeats' subjects. */
  private releasedSubject(): string {
    return `${this.o.subject}-released`;
  }

  /** Claims what is wanted and free, gives up what is no longer wanted and settled. */
  private claimRound(): void {
    if (this.stopped) return;
    // Leases that lapsed are dropped whatever the connection; the rest waits for NATS (the
    // disconnect is logged once by the connection, not once per partition and round).
    const connected = this.o.isConnected();
    let handingOver = false;
    for (const g of [...this.groups.values(), ...this.retired]) {
      for (let p = 0; p < g.partitions(); p++) {
        const claim = g.claim(p);
        if (claim !== undefined && !claim.lease.valid()) g.drop(p, "its lease expired before it was renewed");
        else if (!connected) continue;
        else if (claim !== undefined && g.releasable(p)) void this.release(g, p);
        else if (claim === undefined && g.wants(p)) void this.claim(g, p);
        else if (claim !== undefined && !g.wants(p)) handingOver = true;
      }
      if (this.retired.has(g) && g.claimed().length === 0) this.retired.delete(g);
    }
    if (handingOver) this.roundSoon(HANDOVER_ROUND_MS);
  }

  private async claim(g: NatsConsumerGroup, p: number): Promise<void> {
    const key = offsetKey(g.topicName, g.name, p);
    if (this.claiming.has(key)) return;
    this.claiming.add(key);
    const lease = new Lease(this.o.leases, key, { ttlMs: this.o.timing.leaseTtlMs, marginMs: this.o.timing.marginMs }, () => JSON.stringify({ instance: this.o.instance }));
    try {
      if (!(await lease.acquire())) return;
      const committed = await this.fence(g, p, lease);
      if (this.stopped) {
        await lease.release();
        return;
      }
      const commits = new OffsetCommits(this.o.offsets, { topic: g.topicName, group: g.name, partition: p }, lease.generation, committed.revision, (why) => g.drop(p, why));
      g.gain(p, { lease, commits, feed: undefined }, committed.offset);
      this.o.logger.debug("claimed a partition", { topic: g.topicName, group: g.name, partition: p, generation: lease.generation, from: committed.offset });
    } catch (err) {
      // NATS lost meanwhile: said once by the connection; the next round after it is back claims.
      const level = err instanceof RiffError && err.code === "RIFF_BROKER_UNAVAILABLE" ? "debug" : "warn";
      this.o.logger[level]("claiming a partition failed; trying again", { topic: g.topicName, group: g.name, partition: p, err: String(err) });
      await lease.release().catch(() => undefined);
    } finally {
      this.claiming.delete(key);
    }
  }

  /**
   * Rewrites the partition's offset record with this claim's generation, so that a late commit
   * of the previous holder fails rather than moves the offset; resolves with where to start.
   */
  private async fence(g: NatsConsumerGroup, p: number, lease: Lease): Promise<{ offset: number; revision: number }> {
    for (;;) {
      const record = await this.o.offsets.get(g.topicName, g.name, p);
      const offset = record?.offset ?? (await g.startOffset(p));
      const revision = await this.o.offsets.write(g.topicName, g.name, p, offset, lease.generation, record?.revision ?? 0);
      if (revision !== undefined) return { offset, revision };
    }
  }

  private async release(g: NatsConsumerGroup, p: number): Promise<void> {
    const claim = g.claim(p);
    if (claim === undefined) return;
    // Deleted first, while the lease still knows its revision; dropping it forgets the lease.
    const released = claim.lease.release().then(
      () => this.tellReleased(),
      (err: unknown) => this.o.logger.debug("releasing a lease failed", { err: String(err) }),
    );
    g.drop(p, "handed over");
    await released;
  }

  /** A hint: the instance a released partition was dealt to claims it now, else at its next round. */
  private tellReleased(): void {
    try {
      if (!this.o.nc.isClosed()) this.o.nc.publish(this.releasedSubject());
    } catch (err) {
      this.o.logger.debug("a lease's release was not told", { err: String(err) });
    }
  }

  private async refreshRound(): Promise<void> {
    const topics = new Map([...this.groups.values()].map((g) => [g.topicName, g] as const));
    for (const g of topics.values()) {
      await g.refreshTopic().catch((err: unknown) => this.o.logger.debug("reading a topic's record failed", { topic: g.topicName, err: String(err) }));
    }
  }

  private async renewRound(): Promise<void> {
    if (this.stopped) return;
    const renewals: Promise<void>[] = [];
    for (const g of [...this.groups.values(), ...this.retired]) {
      for (const [p, claim] of g.claimed()) {
        renewals.push(
          claim.lease.renew().then(
            (ok) => {
              if (!ok) g.drop(p, "another instance took its lease");
            },
            // A failure that may pass (a KV leader election): the lease holds until its deadline.
            (err: unknown) => this.o.logger.debug("renewing a lease failed", { partition: p, err: String(err) }),
          ),
        );
      }
    }
    await Promise.all(renewals);
  }
}
