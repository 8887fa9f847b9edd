import { setTimeout as sleep } from "node:timers/promises";
import { RiffError, type Logger } from "@riff/core";
import { apiErrorCode, BrokerConnection, capacityOf, clusterOf, JsErrorCodes, KvBucket, Presence, whoHolds, withPatience, type Departure, type NatsHealth } from "@riff/broker-nats";
import type { ApiKey, FunctionCatalog, Membership, Placement, Scaler, Secret, StoredFunction, TopicRate } from "@riff/controller";
import type { InvokerDefinition } from "@riff/runtime";
import { StorageType } from "nats";
import { ObjectArtifactStore } from "./artifact-store.js";
import { ClusterScaler } from "./cluster-scaler.js";
import { takesPlacements, type NodeState } from "./cluster-view.js";
import { KvResourceStore } from "./kv-store.js";
import { LeaderElection } from "./leader.js";
import { LogBus, type LocalLogs } from "./log-bus.js";
import { clusterNames, type ClusterNames } from "./names.js";
import type { ClusterOptionsResolved } from "./options.js";
import { PlacementBook } from "./placement-book.js";
import { ReplyBus, type LocalReplies } from "./reply-bus.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A node no longer heard of: it left (`riff system stop`) or fell silent (killed, paused, cut off). */
export interface GoneNode {
  how: Departure;
  /** Ms since the epoch. */
  lastHeardAt: number;
}

/** The leader's autoscaler on one function, as `riff describe` shows it. */
export interface LeaderAnswer {
  rates: ReturnType<Scaler["rates"]>;
  decisions: ReturnType<Scaler["decisions"]>;
}

/** What a started node needs from the rest of the daemon. */
export interface NodeParts {
  catalog: FunctionCatalog;
  scaler: Scaler;
  /** This node's state, for its heartbeat. */
  state(): Omit<NodeState, "id" | "leader">;
  reconcile(name: string): void;
  localLogs: LocalLogs;
}

/**
 * One riff node's membership of a riff cluster, on its own NATS connection (apart from the
 * broker's, so control traffic does not queue behind messages): the stores every node shares
 * (functions, invokers, placements in KV; code in the object store), the heartbeats that say
 * who is alive, the leader election, replies and logs across nodes, and, on the leader, the
 * autoscaler's rounds.
 */
export class ClusterNode {
  readonly names: ClusterNames;
  readonly functions: KvResourceStore<StoredFunction>;
  readonly invokers: KvResourceStore<InvokerDefinition>;
  /** Secrets, in the cluster's KV bucket (readable by whoever holds the cluster's NATS credentials). */
  readonly secrets: KvResourceStore<Secret>;
  /** The gateway's API keys (their hashes). */
  readonly keys: KvResourceStore<ApiKey>;
  /** The topics' rates of the gateway. */
  readonly topicRates: KvResourceStore<TopicRate>;
  readonly artifacts: ObjectArtifactStore;
  readonly placements: PlacementBook;
  readonly replies: ReplyBus;
  private presence: Presence<NodeState> | undefined;
  private leader: LeaderElection | undefined;
  private logBus: LogBus | undefined;
  private parts: NodeParts | undefined;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  /** Nodes that were alive and are no more: how they went, and when they were last heard of. */
  private readonly gone = new Map<string, GoneNode>();

  private constructor(
    private readonly conn: BrokerConnection,
    private readonly settings: KvBucket,
    private readonly leaderKv: KvBucket,
    readonly o: ClusterOptionsResolved & { replicas: number },
    resources: KvBucket,
    artifacts: ObjectArtifactStore,
    local: LocalReplies,
  ) {
    this.names = clusterNames(o.cluster);
    this.functions = new KvResourceStore(resources, "functions");
    this.invokers = new KvResourceStore(resources, "invokers");
    this.secrets = new KvResourceStore(resources, "secrets");
    this.keys = new KvResourceStore(resources, "keys");
    this.topicRates = new KvResourceStore(resources, "topic-rates");
    this.artifacts = artifacts;
    this.placements = new PlacementBook(new KvResourceStore<Placement>(resources, "placements"), o.node, (name) => this.parts?.reconcile(name), o.logger);
    this.replies = new ReplyBus(conn.nc, this.names, o.node, local, o.logger);
  }

  /**
   * Connects and opens (or creates) the cluster's buckets, with `o.replicas` copies or, when
   * not given, as many as the NATS cluster seen now allows; `local` takes replies for callers here.
   */
  static async open(given: ClusterOptionsResolved, local: LocalReplies): Promise<ClusterNode> {
    const conn = await BrokerConnection.open(given.servers, given.timeoutMs, given.logger, given.auth, `riff-node-${given.node}`);
    const o = { ...given, replicas: given.replicas ?? capacityOf(clusterOf(conn.nc.info, conn.nc.getServer())) };
    try {
      await assertNameFree(conn, o);
      const js = conn.nc.jetstream({ timeout: o.timeoutMs });
      const jsm = await withPatience("connecting to JetStream", () => conn.nc.jetstreamManager({ timeout: o.timeoutMs }), o.logger);
      const names = clusterNames(o.cluster);
      const replicas = o.replicas;
      // Waits out a leader election (a NATS server lost just before this node starts).
      const open = <T>(what: string, fn: () => Promise<T>) => withPatience(what, fn, o.logger);
      const bucket = (name: string, extra: { ttlMs?: number; history?: number } = {}) =>
        open(`opening bucket ${name}`, () => KvBucket.open({ js, jsm, bucket: name, replicas, timeoutMs: o.timeoutMs, check: () => conn.check(), logger: o.logger, ...extra }));
      const resources = await bucket(names.resources, { history: 5 });
      const settings = await bucket(names.settings);
      const leaderKv = await bucket(names.leader, { ttlMs: o.timing.leaderTtlMs });
      const os = await open("opening the code store", () => js.views.os(names.artifacts, { replicas, storage: StorageType.File }));
      const node = new ClusterNode(conn, settings, leaderKv, o, resources, new ObjectArtifactStore(os, o.cacheDir), local);
      await open("reading the placements", () => node.placements.load());
      return node;
    } catch (err) {
      await conn.close();
      throw err;
    }
  }

  /** The NATS connection's health, for `/healthz` and `riff nodes`. */
  health(): NatsHealth {
    return this.conn.health();
  }

  /**
   * Copies of each topic the cluster keeps when a topic does not say: decided once, by the
   * first node (or `--replicas`), and kept in the cluster's settings, so a node that starts
   * while a NATS server is down does not make R1 topics on an R3 cluster.
   */
  async sharedReplicas(asked: number | undefined): Promise<number> {
    const found = await this.settings.op((kv) => kv.get("replicas"));
    const known = found !== null && found.operation === "PUT" ? Number(found.string()) : undefined;
    if (known !== undefined && Number.isInteger(known)) {
      // A later node's flag would lower (or raise) the copies of every topic made from now on,
      // and the nodes already running would go on saying otherwise: refused, not applied.
      if (asked !== undefined && asked !== known) {
        throw new RiffError("RIFF_CLUSTER_SETTING_CONFLICT", `--replicas ${asked}: cluster ${this.o.cluster} keeps ${known} cop${known === 1 ? "y" : "ies"} of each topic, as its first node decided; a node that joins cannot change it`, {
          hint: `leave --replicas out to join with the cluster's ${known} (riff system start remembers flags: \`riff system start --replicas ${known}\` corrects a home that remembers another), or give one topic its own count with \`riff topics create NAME --replicas ${asked}\``,
          details: { field: "replicas", cluster: known },
        });
      }
      return known;
    }
    const first = asked ?? this.o.replicas;
    try {
      await this.settings.op((kv) => kv.create("replicas", String(first)));
      return first;
    } catch (err) {
      if (apiErrorCode(err) !== JsErrorCodes.wrongLastSequence) throw err;
      // Another node wrote it first: its count is the cluster's.
      return this.sharedReplicas(asked);
    }
  }

  /** The cluster's admin token: the first node's, which every node takes as its own. */
  async adoptToken(local: string): Promise<string> {
    for (;;) {
      const entry = await this.settings.op((kv) => kv.get("token"));
      if (entry !== null && entry.operation === "PUT") return entry.string();
      try {
        await this.settings.op((kv) => kv.create("token", local));
        return local;
      } catch (err) {
        if (apiErrorCode(err) !== JsErrorCodes.wrongLastSequence) throw err;
      }
    }
  }

  /**
   * Makes `token` the cluster's admin token (a node given `--token-file`): the file, a mounted
   * Secret, is the truth, so a rotated Secret reaches nodes started later. True if it changed.
   */
  async offerToken(token: string): Promise<boolean> {
    const entry = await this.settings.op((kv) => kv.get("token"));
    if (entry !== null && entry.operation === "PUT" && entry.string() === token) return false;
    await this.settings.op((kv) => kv.put("token", token));
    return true;
  }

  /** Makes this node the first home of a function it just created; its part in it. */
  async claim(name: string): Promise<Membership | undefined> {
    if (this.placements.get(name) === undefined) {
      await this.placements.write(name, { nodes: { [this.o.node]: 0 }, reason: `created on node ${this.o.node}`, at: new Date().toISOString() });
    }
    return this.placements.of(name).membership;
  }

  /** Starts heartbeats, the leader election, the placements' watch, replies and logs. */
  start(parts: NodeParts): void {
    this.parts = parts;
    const { o } = this;
    this.presence = new Presence<NodeState>({
      nc: this.conn.nc,
      subject: this.names.nodes,
      id: o.node,
      intervalMs: o.timing.heartbeatMs,
      timeoutMs: o.timing.nodeTimeoutMs,
      state: () => ({ ...parts.state(), id: o.node, leader: this.leader?.isLeader === true }),
      onChange: () => this.noteMembers(),
      onDepart: (id, how, lastHeardAt) => this.gone.set(id, { how, lastHeardAt }),
      logger: o.logger,
    });
    this.presence.start();
    this.replies.start();
    this.logBus = new LogBus(this.conn.nc, this.names, parts.localLogs, o.node, () => this.live().map((p) => p.id), o.logger);
    this.logBus.start();
    this.leader = new LeaderElection({
      kv: this.leaderKv,
      node: o.node,
      timing: { ttlMs: o.timing.leaderTtlMs, marginMs: o.timing.marginMs },
      everyMs: o.timing.leaderRenewMs,
      changed: () => this.presence?.announce(),
      logger: o.logger,
    });
    this.leader.start();
    this.answerAsLeader(parts.scaler);
    this.loops.push(this.placements.follow(this.abort.signal));
    // Off under Kubernetes: its Deployments' replica counts are the scale, not placements.
    if (o.autoscaler) this.loops.push(this.lead(parts));
  }

  /** What the leader's autoscaler knows of a function: its rates and last decisions. */
  async askLeader(fn: string): Promise<LeaderAnswer> {
    if (this.isLeader && this.parts !== undefined) return { rates: this.parts.scaler.rates(fn), decisions: this.parts.scaler.decisions(fn) };
    try {
      const m = await this.conn.nc.request(this.names.leaderAsk, encoder.encode(fn), { timeout: 1000 });
      return JSON.parse(decoder.decode(m.data)) as LeaderAnswer;
    } catch {
      // No leader now (an election is under way): nothing to say.
      return { rates: { replicas: {}, arrival: 0 }, decisions: [] };
    }
  }

  private answerAsLeader(scaler: Scaler): void {
    const sub = this.conn.nc.subscribe(this.names.leaderAsk, {
      callback: (err, msg) => {
        if (err !== null || !this.isLeader || !msg.reply) return;
        const fn = decoder.decode(msg.data);
        msg.respond(encoder.encode(JSON.stringify({ rates: scaler.rates(fn), decisions: scaler.decisions(fn) })));
      },
    });
    this.abort.signal.addEventListener("abort", () => sub.unsubscribe(), { once: true });
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
    await this.leader?.stop();
    this.presence?.stop();
    this.replies.stop();
    this.logBus?.stop();
    await this.conn.close();
  }

  /** The live nodes, this one included. */
  live() {
    return this.presence?.live() ?? [];
  }

  /** Nodes that left or fell silent within the last {@link GONE_KEPT_MS}. */
  recentlyGone(): ReadonlyMap<string, GoneNode> {
    const since = Date.now() - GONE_KEPT_MS;
    for (const [id, g] of this.gone) if (g.lastHeardAt < since) this.gone.delete(id);
    return this.gone;
  }

  /** This node's name. */
  get id(): string {
    return this.o.node;
  }

  get isLeader(): boolean {
    return this.leader?.isLeader === true;
  }

  /** Sends a line this node wrote to the cluster's followers of `fn`. */
  publishLog(fn: string, text: string): void {
    this.logBus?.publish(fn, text);
  }

  /** `riff logs` over every node. */
  get logs(): Pick<LogBus, "read" | "follow"> {
    const bus = () => {
      if (this.logBus === undefined) throw new Error("the cluster node is not started");
      return this.logBus;
    };
    return { read: (fn, tail) => bus().read(fn, tail), follow: (fn, listener) => bus().follow(fn, listener) };
  }

  /** The leader's rounds: only the leader acts; every node keeps looking. */
  private async lead(parts: NodeParts): Promise<void> {
    const rounds = new ClusterScaler(parts.scaler, parts.catalog, this.placements, () => this.live().filter(takesPlacements));
    while (!this.abort.signal.aborted) {
      if (this.isLeader) {
        await rounds.tick().catch((err: unknown) => this.o.logger.warn("a round of the cluster's autoscaler failed", { err: String(err) }));
      }
      await sleep(this.o.timing.scaleIntervalMs, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  private noteMembers(): void {
    for (const p of this.live()) this.gone.delete(p.id);
    // The placements of functions on a node that left are the leader's to repair; the
    // broker's groups rebalance by themselves.
  }
}

/** How long `riff nodes` goes on listing a node that left or fell silent. */
const GONE_KEPT_MS = 60 * 60_000;

/** How long a node waits for the holder of its name to answer before it starts anyway. */
const NAME_CHECK_MS = 1500;

/**
 * Refuses to join under a name a running node holds: two nodes of one name would take each
 * other's replies and placements. A holder that is subscribed but silent (paused, or a host that
 * died without closing its connection, which NATS drops only after its ping timeout) is no
 * proof: the node starts, with a warning, and the heartbeats tell if both go on.
 */
async function assertNameFree(conn: BrokerConnection, o: ClusterOptionsResolved): Promise<void> {
  const holder = await whoHolds<NodeState>(conn.nc, clusterNames(o.cluster).nodes, o.node, NAME_CHECK_MS);
  if (holder === undefined) return;
  if (holder === "silent") {
    o.logger.warn("a node of this name is still registered with NATS but did not answer; starting anyway (a host that died is dropped by NATS after its ping timeout)", { node: o.node });
    return;
  }
  throw new RiffError("RIFF_NODE_NAME_TAKEN", `--node-name ${o.node}: node ${o.node} of cluster ${o.cluster} is running, at ${holder.state.url} (since ${holder.state.startedAt})`, {
    hint: "give this node a name of its own (riff system start --node-name NAME; each node also needs its own home and port), or stop that node first with `riff system stop` on its host",
    details: { field: "node-name" },
  });
}
