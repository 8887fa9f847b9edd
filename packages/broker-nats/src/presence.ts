import { randomBytes } from "node:crypto";
import type { Logger } from "@riff/core";
import { ErrorCode, headers as natsHeaders, type MsgHdrs, type NatsConnection, type NatsError, type Subscription } from "nats";

/** What a {@link Presence} needs. */
export interface PresenceOptions<T> {
  nc: NatsConnection;
  /**
   * Subject root: heartbeats go to `<subject>.hb.<id>`, `<subject>.hello` and `<subject>.bye.<id>`;
   * `<subject>-whois.<id>` asks the process that holds an id (see {@link whoHolds}): outside
   * `<subject>.>`, so that only that process listens and a free id gets "no responders" at once.
   */
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
   * A peer went: `left` when it said goodbye (a clean stop), `silent` when its heartbeats
   * stopped (killed, paused or cut off). `lastHeardAt` is in ms since the epoch.
   */
  onDepart?(id: string, how: Departure, lastHeardAt: number): void;
  /**
   * Only listens: sends no heartbeat and is no peer of the others (the Kubernetes controller
   * watches the nodes' heartbeats without being a node). @default false
   */
  observer?: boolean;
  logger: Logger;
}

/** What the instance holding an id answers: its process's mark, and its state. */
export interface Holder<T> {
  instance: string;
  state: T;
}

/** The header naming the process that sent a heartbeat: two processes that share an id tell apart. */
const INSTANCE_HEADER = "Riff-Instance";
/** At most one complaint about another process using this id per this long. */
const DUPLICATE_LOG_MS = 30_000;

/** How a peer went: it said goodbye, or it fell silent. */
export type Departure = "left" | "silent";

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
  private whois: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** This process's mark: a process that starts again under the same id is another instance. */
  readonly instance = randomBytes(8).toString("hex");
  private readonly mark: MsgHdrs = natsHeaders();
  private duplicateLoggedAt = -Infinity;

  constructor(private readonly o: PresenceOptions<T>) {
    this.mark.set(INSTANCE_HEADER, this.instance);
  }

  /** Starts listening and announcing; asks every peer to announce itself now. */
  start(): void {
    const { nc, subject } = this.o;
    this.sub = nc.subscribe(`${subject}.>`, {
      callback: (err, msg) => {
        if (err !== null) return;
        try {
          this.receive(msg.subject.slice(subject.length + 1), msg.data, msg.headers?.get(INSTANCE_HEADER));
        } catch (e) {
          this.o.logger.debug("ignored a malformed presence message", { subject: msg.subject, err: String(e) });
        }
      },
    });
    if (this.o.observer !== true) {
      this.whois = nc.subscribe(`${subject}-whois.${this.o.id}`, {
        callback: (err, msg) => {
          if (err === null && msg.reply) msg.respond(encoder.encode(JSON.stringify({ instance: this.instance, state: this.o.state() } satisfies Holder<T>)));
        },
      });
    }
    this.announce();
    nc.publish(`${subject}.hello`);
    this.timer = setInterval(() => this.tick(), this.o.intervalMs);
    this.timer.unref();
  }

  /** Publishes this instance's state now (it changed), besides the periodic heartbeat. */
  announce(): void {
    if (this.sub === undefined || this.o.nc.isClosed() || this.o.observer === true) return;
    try {
      this.o.nc.publish(`${this.o.subject}.hb.${this.o.id}`, encoder.encode(JSON.stringify(this.o.state())), { headers: this.mark });
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
    this.whois?.unsubscribe();
    this.whois = undefined;
    this.peers.clear();
  }

  private receive(kind: string, data: Uint8Array, instance: string | undefined): void {
    if (kind === "hello") {
      this.announce();
      return;
    }
    const [type, id] = [kind.slice(0, kind.indexOf(".")), kind.slice(kind.indexOf(".") + 1)];
    if (id === this.o.id) {
      // Its own heartbeats come back; one from another process means two share this id
      // (started together, or one was paused through the other's start).
      if (type === "hb" && instance !== undefined && instance !== "" && instance !== this.instance) this.duplicate(instance);
      return;
    }
    if (id === "") return;
    if (type === "bye") {
      if (!this.peers.delete(id)) return;
      this.o.logger.info("a peer left", { peer: id });
      this.o.onDepart?.(id, "left", Date.now());
      this.o.onChange?.();
      return;
    }
    if (type !== "hb") return;
    const state = JSON.parse(decoder.decode(data)) as T;
    const before = this.peers.get(id);
    this.peers.set(id, { id, state, seenAt: performance.now() });
    if (before === undefined || JSON.stringify(before.state) !== JSON.stringify(state)) this.o.onChange?.();
  }

  private duplicate(other: string): void {
    const now = performance.now();
    if (now - this.duplicateLoggedAt < DUPLICATE_LOG_MS) return;
    this.duplicateLoggedAt = now;
    this.o.logger.error("another process uses this instance's name: replies and ownership go astray until one of them stops", { id: this.o.id, other });
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
        this.o.onDepart?.(id, "silent", Date.now() - (now - p.seenAt));
      }
    }
    if (gone) this.o.onChange?.();
  }
}

/**
 * Which process holds `id` under `subject` now: its answer; `undefined` when none does (no
 * process listens for the id); `"silent"` when one is subscribed but did not answer within
 * `timeoutMs` (paused, or cut off while NATS has not yet noticed its connection is dead).
 */
export async function whoHolds<T>(nc: NatsConnection, subject: string, id: string, timeoutMs: number): Promise<Holder<T> | "silent" | undefined> {
  try {
    const answer = await nc.request(`${subject}-whois.${id}`, new Uint8Array(0), { timeout: timeoutMs });
    return JSON.parse(decoder.decode(answer.data)) as Holder<T>;
  } catch (err) {
    const code = (err as NatsError).code;
    if (code === ErrorCode.NoResponders) return undefined;
    if (code === ErrorCode.Timeout) return "silent";
    throw err;
  }
}
