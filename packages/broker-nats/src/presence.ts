import type { Logger } from "@riff/core";
import type { NatsConnection, Subscription } from "nats";

/** What a {@link Presence} needs. */
export interface PresenceOptions<T> {
  nc: NatsConnection;
  /** Subject root: heartbeats go to `<subject>.hb.<id>`, `<subject>.hello` and `<subject>.bye.<id>`. */
  subject: string;
  /** This instance's id; a subject token (no '.', '*', '>' or whitespace). */
  id: string;
  /** How often this instance says it is alive. */
  intervalMs: number;
  /** A peer not heard from for this long is gone. */
  timeoutMs: number;
  /** What this instance says about itself, read at every heartbeat. */
  state(): T;
  /** Peers came, went, or said something new. */
  onChange?(): void;
  /**
   * Only listens: sends no heartbeat and is no peer of the others (the Kubernetes controller
   * watches the nodes' heartbeats without being a node). @default false
   */
  observer?: boolean;
  logger: Logger;
}

/** A peer as last heard of. */
export interface Peer<T> {
  id: string;
  state: T;
  /** `performance.now()` when last heard of. */
  seenAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Who is alive, by heartbeats on core NATS: each instance publishes what it is doing every
 * `intervalMs`, and every instance keeps a table of the peers heard from within `timeoutMs`.
 * Core NATS, not JetStream KV: no Raft write per heartbeat, and no blind window when a KV
 * leader dies. It only tells who is there; leases in KV decide who owns what.
 */
export class Presence<T> {
  private readonly peers = new Map<string, Peer<T>>();
  private sub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: PresenceOptions<T>) {}

  /** Starts listening and announcing; asks every peer to announce itself now. */
  start(): void {
    const { nc, subject } = this.o;
    this.sub = nc.subscribe(`${subject}.>`, {
      callback: (err, msg) => {
        if (err !== null) return;
        try {
          this.receive(msg.subject.slice(subject.length + 1), msg.data);
        } catch (e) {
          this.o.logger.debug("ignored a malformed presence message", { subject: msg.subject, err: String(e) });
        }
      },
    });
    this.announce();
    nc.publish(`${subject}.hello`);
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Publishes this instance's state now (it changed), besides the periodic heartbeat. */
  announce(): void {
    if (this.sub === undefined || this.o.nc.isClosed() || this.o.observer === true) return;
    try {
      this.o.nc.publish(`${this.o.subject}.hb.${this.o.id}`, encoder.encode(JSON.stringify(this.o.state())));
    } catch (err) {
      // Disconnected: the next heartbeat after the reconnect says it.
      this.o.logger.debug("a heartbeat was not sent", { err: String(err) });
    }
  }

  /** The live peers, this instance included (as it is now, whatever the network says). */
  live(): Peer<T>[] {
    const others = [...this.peers.values()].filter((p) => p.id !== this.o.id);
    if (this.o.observer === true) return others.sort((a, b) => a.id.localeCompare(b.id));
    const self: Peer<T> = { id: this.o.id, state: this.o.state(), seenAt: performance.now() };
    return [self, ...others].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Says goodbye (peers drop this instance at once) and stops. */
  stop(): void {
    clearInterval(this.timer);
    if (this.sub === undefined) return;
    try {
      if (!this.o.nc.isClosed() && this.o.observer !== true) this.o.nc.publish(`${this.o.subject}.bye.${this.o.id}`);
    } catch {
      // closing anyway
    }
    this.sub.unsubscribe();
    this.sub = undefined;
    this.peers.clear();
  }

  private receive(kind: string, data: Uint8Array): void {
    if (kind === "hello") {
      this.announce();
      return;
    }
    const [type, id] = [kind.slice(0, kind.indexOf(".")), kind.slice(kind.indexOf(".") + 1)];
    if (id === this.o.id || id === "") return;
    if (type === "bye") {
      if (this.peers.delete(id)) this.o.onChange?.();
      return;
    }
    if (type !== "hb") return;
    const state = JSON.parse(decoder.decode(data)) as T;
    const before = this.peers.get(id);
    this.peers.set(id, { id, state, seenAt: performance.now() });
    if (before === undefined || JSON.stringify(before.state) !== JSON.stringify(state)) this.o.onChange?.();
  }

  private tick(): void {
    this.announce();
    const now = performance.now();
    let gone = false;
    for (const [id, p] of this.peers) {
      if (now - p.seenAt > this.o.timeoutMs) {
        this.peers.delete(id);
        gone = true;
        this.o.logger.info("a peer is gone: no heartbeat", { peer: id, silentMs: Math.round(now - p.seenAt) });
      }
    }
    if (gone) this.o.onChange?.();
  }
}
